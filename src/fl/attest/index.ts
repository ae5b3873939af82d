/**
 * TPM 2.0 attestation for federated learning: what federation code (serve, edge, join) needs to
 * fill the seam in ../attestation-port.ts. See docs/fl-attestation.md.
 *
 * Client: `createClientAttestor('swtpm:DIR' | 'device')`, sign the AK name with
 * `akBindingDigest(akName)` and the client's secp256k1 key (prehash: false).
 * Server: `createAttestationVerifier({caCertificates: loadCaCertificates(dir), policy: loadPcrPolicy(file)})`.
 */
export {createCa, loadCaCertificates, provisionSwtpm} from './ca.js'
export {runAttestationCheck} from './check.js'
export {createClientAttestor, parseTpmSpec, type TpmClientAttestor, type TpmSpec} from './client-attestor.js'
export {loadPcrPolicy, parsePcrPolicy, type PcrPolicy, pcrPolicyToYaml, policyFromValues} from './pcr-policy.js'
export {akBindingDigest, createAttestationVerifier, type EnrolledClient, type TpmAttestationVerifier} from './verifier.js'
