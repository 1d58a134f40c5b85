package workflows

// HistoryBudgetVersion is historyBudgetVersion, for the external tests that
// run the fetch on both sides of the gate (TestWorkflowEnvironment.OnGetVersion).
const HistoryBudgetVersion = historyBudgetVersion
