/** The live devnet dashboard (Ink): the view, and the runner that draws watchDevnet()'s snapshots. */
export {Dashboard, type DashboardProps} from './dashboard.js'
export {type RunDashboardOptions, runDashboard} from './run-dashboard.js'
