//! Showing fixture problems: in the server log, and as `aimock validate`'s output.

use std::path::PathBuf;
use std::process::ExitCode;

use aimock::fixture::{load_paths, Problem, Severity};

use crate::flags::ValidateArgs;
use crate::settings::reject_remote;

/// Log every problem at its severity, as `file:line:col: error: fixtures[i].field: message`.
pub(crate) fn log_problems(problems: &[Problem]) {
    for p in problems {
        match p.severity {
            Severity::Error => tracing::error!("{p}"),
            Severity::Warning => tracing::warn!("{p}"),
        }
    }
}

/// `aimock validate`: load the paths, print every problem and a summary; exit 1 on an error.
pub(crate) fn validate(args: &ValidateArgs) -> ExitCode {
    for p in &args.paths {
        if let Err(e) = reject_remote(&p.to_string_lossy(), "aimock validate") {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let report = load_paths(&args.paths);
    let errors = report.errors().count();
    let warnings = report.problems.len() - errors;
    let summary = format!(
        "{} file(s), {} fixture(s) loaded: {errors} error(s), {warnings} warning(s)",
        report.files.len(),
        report.fixtures.len(),
    );
    if args.json {
        match serde_json::to_string_pretty(&report.problems) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot write JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
        // stdout stays one JSON document; the summary goes to stderr.
        eprintln!("{summary}");
    } else {
        for p in &report.problems {
            println!("{p}");
        }
        println!("{summary}");
    }
    if errors > 0 || (args.strict && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The paths, for a log line.
pub(crate) fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
