"""The region of the event data store an import or plan of a stack writes to, from the stack.

An import lives in its store's region, which need not be the stack's (nor the command line's):
GetImport in another region answers ImportNotFoundException. The store's ARN is the first of
the resource's ``Destinations`` (a plan's: of its first segment) in the stack's template: a
literal ARN, or a ``Ref``/``Fn::GetAtt`` of the stack's store or of a parameter, which the stack
resolves (an ``AWS::CloudTrail::EventDataStore``'s physical id is its ARN).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli import clients

STORE_ARN_PREFIX = "arn:"


@dataclass(frozen=True)
class StoreRegion:
    """The store's region, or None with the reason it could not be read."""

    region: str | None
    reason: str = ""


def region_of_arn(arn: str) -> str | None:
    """``arn:<partition>:cloudtrail:<region>:<account>:eventdatastore/<id>`` -> its region."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "cloudtrail" or not parts[3]:
        return None
    return parts[3]


def destination_of(properties: Mapping[str, Any]) -> Any:
    """The (unresolved) store ARN of an import's or a plan's properties, or None."""
    destinations = properties.get("Destinations")
    if destinations is None:
        segments = properties.get("Segments")
        if isinstance(segments, list) and segments and isinstance(segments[0], Mapping):
            destinations = segments[0].get("Destinations")
    if isinstance(destinations, list) and destinations:
        return destinations[0]
    return None


def store_region(stack: str, logical_id: str) -> StoreRegion:
    """The region of the store the resource ``logical_id`` of ``stack`` writes to."""
    client = clients.cloudformation()
    try:
        body = client.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
        template = json.loads(body) if isinstance(body, str) else body
    except (ClientError, BotoCoreError) as error:
        return StoreRegion(None, f"GetTemplate failed: {error}")
    except ValueError:
        return StoreRegion(None, "the stack's template is not JSON")
    resource = template.get("Resources", {}).get(logical_id, {})
    value = destination_of(resource.get("Properties", {}))
    try:
        arn = _resolve(client, stack, template, value)
    except (ClientError, BotoCoreError) as error:
        return StoreRegion(None, f"resolving its Destinations failed: {error}")
    region = region_of_arn(arn) if arn else None
    if region is None:
        return StoreRegion(None, f"its Destinations {json.dumps(value)} name no store ARN")
    return StoreRegion(region)


def _resolve(client: Any, stack: str, template: Mapping[str, Any], value: Any) -> str | None:
    """A literal, ``Ref`` or ``Fn::GetAtt`` store ARN as the deployed stack resolved it."""
    if isinstance(value, str):
        return value if value.startswith(STORE_ARN_PREFIX) else None
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    (function, argument), *_ = value.items()
    if function == "Fn::GetAtt":
        name = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
    elif function == "Ref" and isinstance(argument, str):
        name = argument
        if name in template.get("Parameters", {}):
            (described,) = client.describe_stacks(StackName=stack)["Stacks"]
            for parameter in described.get("Parameters", []):
                if parameter.get("ParameterKey") == name:
                    resolved = parameter.get("ResolvedValue") or parameter.get("ParameterValue")
                    return str(resolved) if resolved else None
            return None
    else:
        return None
    detail = client.describe_stack_resource(StackName=stack, LogicalResourceId=name)
    physical_id = detail["StackResourceDetail"].get("PhysicalResourceId")
    return str(physical_id) if physical_id else None
