/** The native-module API: what a module's source imports as `xai/modules`. */
export * from './module.js'
export * from './test-kit.js'
export {checkModuleSource, type ModuleSourceFinding, type ModuleSourceCheck} from './check-module-source.js'
export * from './storage-codec.js'
