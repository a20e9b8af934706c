// Evaluates IAM requests with @cloud-copilot/iam-simulate, AWS's evaluation logic offline.
//
// stdin: a JSON list of simulations, each the library's `Simulation` (request, identity
// policies, resource policy, ...). stdout: a JSON list, one entry per simulation, in order:
// {"decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"} or, when the library
// refuses the input (an unknown action, a malformed policy, a resource the action does not
// take, a context key it would ignore), {"error": ...}: the caller fails on it rather than
// reading it as a denial.
//
// The library drops context keys the action does not document, and recognises a key with a
// variable part only after a '/' (aws:PrincipalTag/x): KMS's kms:EncryptionContext:<key> is
// dropped although KMS documents it. A request that names such a key is validated as usual and
// then decided by the library's own evaluation (`authorize`, what its runUnsafeSimulation calls,
// which keeps every key it is given; runUnsafeSimulation itself cannot load a resource policy
// in this version, so its few lines are repeated here with the policies named).
import { loadPolicy } from '@cloud-copilot/iam-policy'
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { DiscoveryContextKeyConstraints } from '../../node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js'
import { authorize } from '../../node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js'
import { AwsRequestImpl } from '../../node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js'
import { RequestContextImpl } from '../../node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js'

const KMS_ENCRYPTION_CONTEXT = 'kms:encryptioncontext:'

function decideWithEveryContextKey(simulation) {
  const { request } = simulation
  const analysis = authorize({
    request: new AwsRequestImpl(
      request.principal,
      { resource: request.resource.resource, accountId: request.resource.accountId },
      request.action,
      new RequestContextImpl(request.contextVariables),
    ),
    sessionPolicy: undefined,
    identityPolicies: simulation.identityPolicies.map((p) => loadPolicy(p.policy, { name: p.name })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: simulation.resourcePolicy
      ? loadPolicy(simulation.resourcePolicy, { name: 'ResourcePolicy' })
      : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
    },
    serviceSettings: { s3: { blockPublicAccess: undefined } },
  })
  return analysis.result
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

const simulations = JSON.parse(await readStdin())
const answers = []
for (const simulation of simulations) {
  const complete = {
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...simulation,
  }
  const response = await runSimulation(complete, {})
  if (response.resultType === 'error') {
    answers.push({ error: response.errors })
    continue
  }
  const results = response.resultType === 'single' ? [response.result] : response.results
  const ignored = [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))]
  const unknown = ignored.filter((key) => !key.toLowerCase().startsWith(KMS_ENCRYPTION_CONTEXT))
  if (unknown.length > 0) {
    answers.push({ error: `context keys ${unknown.join(', ')} do not apply to this request` })
  } else if (ignored.length > 0) {
    answers.push({ decision: decideWithEveryContextKey(complete) })
  } else {
    answers.push({ decision: response.overallResult })
  }
}
process.stdout.write(JSON.stringify(answers))
