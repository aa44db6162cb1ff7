//! `runqlint explain`, `runqlint rules`, `runqlint schema`: the documentation commands.

use crate::cli::{ExplainArgs, RulesArgs};
use crate::error::{Error, Result};
use crate::output::{self, ReportFormat};
use crate::rules::Rule;

pub fn explain(args: &ExplainArgs) -> Result<()> {
    let rule = Rule::from_name(&args.rule).ok_or_else(|| {
        Error::Usage(format!(
            "unknown rule `{}`; the rules are: {}",
            crate::text::escape(&args.rule),
            Rule::ALL.map(Rule::name).join(", ")
        ))
    })?;
    let text = format!(
        "{}\nDefault severity: {}\n",
        rule.doc(),
        rule.default_level().as_str()
    );
    output::stdout(&text).map_err(|e| Error::Io(format!("stdout: {e}")))
}

pub fn rules(args: &RulesArgs) -> Result<()> {
    let text = match args.format {
        ReportFormat::Json => {
            let list: Vec<_> = Rule::ALL
                .iter()
                .map(|r| serde_json::json!({"name": r.name(), "default": r.default_level().as_str(), "summary": r.summary()}))
                .collect();
            format!("{}\n", serde_json::Value::Array(list))
        }
        ReportFormat::Human => {
            let width = Rule::ALL.iter().map(|r| r.name().len()).max().unwrap_or(0);
            Rule::ALL
                .iter()
                .map(|r| {
                    format!(
                        "{:width$}  {:5}  {}\n",
                        r.name(),
                        r.default_level().as_str(),
                        r.summary()
                    )
                })
                .collect()
        }
    };
    output::stdout(&text).map_err(|e| Error::Io(format!("stdout: {e}")))
}

pub fn schema() -> Result<()> {
    output::stdout(crate::schema::SCHEMA_TEXT).map_err(|e| Error::Io(format!("stdout: {e}")))
}
