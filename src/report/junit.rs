//! The JUnit XML report: one test case per check, one suite per task, for CI dashboards.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::check::CheckStatus;

pub fn render_junit(report: &Report) -> String {
    let mut junit = JunitReport::new(format!("remtrack: {}", report.plan.title));
    for task in &report.tasks {
        let mut suite = TestSuite::new(format!("{} ({})", task.id, task.title));
        if task.manual {
            let mut status = TestCaseStatus::skipped();
            status.set_message("manual task: only a person can verify it");
            suite.add_test_case(TestCase::new(
                format!("{}: verified by a person", task.id),
                status,
            ));
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
