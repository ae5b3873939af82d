/** The live devnet dashboard (Ink) and its data layer. */
export {Dashboard, type DashboardProps} from './dashboard.js'
export {
  BlockTracker,
  type ClassifyContext,
  type CommittedBlock,
  type DashboardBlockRow,
  type DashboardModel,
  type DashboardModelOptions,
  type DashboardNodeRow,
  type DashboardSnapshot,
  type NodeState,
  type NodeStateKind,
  type NodeTone,
  classifyNode,
  createDashboardModel,
} from './model.js'
export {type RunDashboardOptions, runDashboard} from './run-dashboard.js'
