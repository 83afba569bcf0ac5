//! The JUnit XML report: one test case per check, one suite per task, for CI dashboards.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::check::CheckStatus;
use crate::status::Verification;

pub fn render_junit(report: &Report) -> String {
    let mut junit = JunitReport::new(format!("remtrack: {}", report.plan.title));
    for task in &report.tasks {
        let mut suite = TestSuite::new(format!("{} ({})", task.id, task.title));
        if let Some(last) = &task.last_apply {
            // Not a test case: an apply is history, and a failed one says nothing of the checks.
            suite.set_system_out(task.last_apply_text());
            suite.add_property(("remtrack.last_apply", last.outcome.as_str()));
        }
        if task.manual {
            let verified = task
                .verification
                .as_ref()
                .is_some_and(|v| v.state == Verification::Verified);
            let mut case = if verified {
                let mut case =
                    TestCase::new(format!("{}/verified", task.id), TestCaseStatus::success());
                case.set_system_out(task.verification_text());
                case
            } else {
                let mut status = TestCaseStatus::skipped();
                status.set_message(if task.verification.is_some() {
                    format!("manual task: {}", task.verification_text())
                } else {
                    "manual task: not yet verified by a person".into()
                });
                TestCase::new(format!("{}/verified", task.id), status)
            };
            case.set_classname(format!("remtrack.day{}.{}", task.day, task.id));
            suite.add_test_case(case);
        }
        let checks = task
            .checks
            .iter()
            .map(|c| (c, ""))
            .chain(task.guards.iter().map(|g| (g, "guard ")));
        for (check, prefix) in checks {
            let status = match check.status {
                CheckStatus::Pass => TestCaseStatus::success(),
                other => {
                    let kind = if other == CheckStatus::Fail {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status
                        .set_message(check.evidence.as_str())
                        .set_type(check.kind);
                    status
                }
            };
            let mut case = TestCase::new(format!("{prefix}{}/{}", task.id, check.id), status);
            case.set_classname(format!("remtrack.day{}.{}", task.day, task.id));
            if check.status == CheckStatus::Pass {
                case.set_system_out(check.evidence.as_str());
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|error| format!("<!-- cannot render JUnit XML: {error} -->"))
}
