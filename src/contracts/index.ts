// The contracts project layer: what `xai contract …` commands (and later deploy, call, bindings
// and the REST surface) build on.
export {type Artifact, type ArtifactRef, type BuildInfo, artifactPath, listArtifacts, readArtifact} from './artifacts.js'
export {type CompileEvent, type CompileProjectOptions, type CompileProjectResult, compileProject} from './compile-project.js'
export {CONFIG_FILE, EVM_VERSIONS, type NetworkConfig, type XaiConfig, defaultConfig, loadConfig, parseConfig} from './config.js'
export {assertContractNameFree, declaredContractNames, validateContractName} from './contract-name.js'
export {type Diagnostic, formatDiagnostic} from './diagnostics.js'
export {ContractsErrorCode} from './errors.js'
export {type InitProjectOptions, type InitProjectResult, initProject} from './init-project.js'
export {type NewContractOptions, type NewContractResult, isContractTemplateId, newContract} from './new-contract.js'
export {type Project, type ProjectPaths, findProject, openProject, projectPaths} from './project.js'
export {CONTRACT_TEMPLATES, CONTRACT_TEMPLATE_IDS, type ContractTemplateId} from './templates.js'
