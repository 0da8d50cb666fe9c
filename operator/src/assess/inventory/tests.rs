use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

const GIB: i64 = 1 << 30;
const MIB: i64 = 1 << 20;

const GOVCLOUD: &str = "\
server,department,application,system,securityLevel,cores,memoryGiB,cpuP95,memoryP95,cpuAverage,memoryAverage,yearlyCost,powerWatts,powerState,os
fin-db-01,finance,ledger,ledger-prod,3,8,64,41.5,70%,20,55,12000,350,on,RHEL 8
fin-app-02,finance,ledger,ledger-prod,2,0.5,1.5,,,12.5,30,800.50,45,,Windows Server 2019
fin-old-03,finance,,,,2,4,,,,,,,Off,
";

fn messages(errors: &[InventoryError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn errors_of(text: &str) -> Vec<String> {
    messages(&parse("inv.csv", text).expect_err("the file has problems"))
}

fn one_error(text: &str) -> String {
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].clone()
}

#[test]
fn govcloud_rows_read_with_sizes_utilisation_cost_and_state() {
    let servers = parse("finance.csv", GOVCLOUD).expect("a good file");
    assert_eq!(servers.len(), 3);
    let db = &servers[0];
    assert_eq!(
        (db.file.as_str(), db.line, db.format, db.name.as_str()),
        ("finance.csv", 2, Format::Govcloud, "fin-db-01")
    );
    assert_eq!(db.department.as_deref(), Some("finance"));
    assert_eq!(db.application.as_deref(), Some("ledger"));
    assert_eq!(db.system.as_deref(), Some("ledger-prod"));
    assert_eq!(db.security_level, Some(3));
    assert_eq!((db.cpu_millis, db.memory_bytes), (8000, 64 * GIB));
    // Where both are given, the p95 is taken: it is what a consolidation must fit.
    assert_eq!(
        db.cpu_utilisation,
        Some(Measured {
            ratio: 0.415,
            statistic: Statistic::P95
        })
    );
    assert_eq!(
        db.memory_utilisation,
        Some(Measured {
            ratio: 0.7,
            statistic: Statistic::P95
        })
    );
    assert_eq!((db.yearly_cost, db.power_watts), (Some(12000.0), Some(350.0)));
    assert_eq!((db.state, db.os.as_deref()), (State::On, Some("RHEL 8")));

    let app = &servers[1];
    assert_eq!((app.cpu_millis, app.memory_bytes), (500, 3 * GIB / 2));
    assert_eq!(
        app.cpu_utilisation,
        Some(Measured {
            ratio: 0.125,
            statistic: Statistic::Average
        })
    );
    assert_eq!(
        app.memory_utilisation.map(|m| m.statistic),
        Some(Statistic::Average)
    );
    assert_eq!(app.yearly_cost, Some(800.5));
    assert_eq!(app.state, State::On, "an empty power state is on");

    let old = &servers[2];
    assert_eq!(old.state, State::Off);
    assert_eq!((old.cpu_utilisation, old.memory_utilisation), (None, None));
    assert_eq!((old.application.as_deref(), old.security_level), (None, None));
    assert_eq!((old.yearly_cost, old.os.as_deref()), (None, None));
}

#[test]
fn govcloud_needs_only_name_and_size_and_matches_headers_loosely() {
    let text = " Server ;CORES; MemoryGiB ;owner\n\
                web-1;4;16;alice\n\
                web-2;1,5;0,5;bob\n";
    let servers = parse("inv.csv", text).expect("a good file");
    assert_eq!(servers.len(), 2);
    assert_eq!((servers[0].name.as_str(), servers[0].cpu_millis), ("web-1", 4000));
    // A `;` file is an Excel export from a decimal-comma locale.
    assert_eq!((servers[1].cpu_millis, servers[1].memory_bytes), (1500, GIB / 2));
    assert_eq!(servers[1].cpu_utilisation, None);
    assert_eq!(servers[1].department, None);
}

const RVTOOLS: &str = "\
\"VM\",\"Powerstate\",\"Template\",\"DNS Name\",\"CPUs\",\"Memory\",\"NICs\",\"Folder\",\"Annotation\",\"OS according to the configuration file\",\"OS according to the VMware Tools\"
\"SRV-FIN-01\",\"poweredOn\",\"False\",\"srv-fin-01.gov.local\",\"4\",\"16384\",\"1\",\"/Finance/Prod\",\"Ledger, owner: J. Smith\",\"Microsoft Windows Server 2019 (64-bit)\",\"Microsoft Windows Server 2019 (64-bit)\"
\"SRV-FIN-02\",\"poweredOff\",\"False\",\"\",\"2\",\"4096\",\"1\",\"/Finance/Test\",\"\",\"\",\"Ubuntu Linux (64-bit)\"
\"TPL-W2019\",\"poweredOff\",\"True\",\"\",\"2\",\"8192\",\"1\",\"/Templates\",\"golden image\",\"Microsoft Windows Server 2019 (64-bit)\",\"\"
\"SRV-EDU-07\",\"suspended\",\"\",\"\",\"1\",\"2048\",\"1\",\"/Education\",\"\",\"\",\"\"
";

#[test]
fn rvtools_vinfo_reads_vms_with_their_power_state_and_templates() {
    let servers = parse("vcenter.csv", RVTOOLS).expect("a good file");
    let summary: Vec<(&str, State, i64, i64)> = servers
        .iter()
        .map(|s| (s.name.as_str(), s.state, s.cpu_millis, s.memory_bytes))
        .collect();
    assert_eq!(
        summary,
        [
            ("SRV-FIN-01", State::On, 4000, 16 * GIB),
            ("SRV-FIN-02", State::Off, 2000, 4 * GIB),
            ("TPL-W2019", State::Template, 2000, 8 * GIB),
            ("SRV-EDU-07", State::Suspended, 1000, 2 * GIB),
        ]
    );
    let fin = &servers[0];
    assert_eq!(fin.format, Format::RvTools);
    assert_eq!(fin.folder.as_deref(), Some("/Finance/Prod"));
    assert_eq!(fin.annotation.as_deref(), Some("Ledger, owner: J. Smith"));
    assert_eq!(fin.os.as_deref(), Some("Microsoft Windows Server 2019 (64-bit)"));
    assert_eq!((fin.department.as_deref(), fin.cpu_utilisation), (None, None));
    // The Tools' OS stands in where the configuration file names none.
    assert_eq!(servers[1].os.as_deref(), Some("Ubuntu Linux (64-bit)"));
    assert_eq!(servers[1].annotation, None);
    assert_eq!(servers[3].os, None);
}

#[test]
fn rvtools_power_states_and_template_flags_are_checked() {
    let text = "VM,Powerstate,Template,CPUs,Memory\n\
                a,poweredOn,False,2,2048\n\
                b,running,False,2,2048\n\
                c,poweredOn,yes,2,2048\n\
                d,poweredOn,False,2.5,1024.5\n";
    assert_eq!(
        errors_of(text),
        [
            "inv.csv:3: column \"Powerstate\": \"running\" is not a power state; expected poweredOn, poweredOff or suspended",
            "inv.csv:4: column \"Template\": \"yes\" is not True or False",
            "inv.csv:5: column \"CPUs\": \"2.5\" is not a whole number; expected a whole number of virtual CPUs > 0",
            "inv.csv:5: column \"Memory\": \"1024.5\" is not a whole number; expected a whole number of MiB > 0",
        ]
    );
}

const AZURE: &str = "\
*Server name,IP addresses,*Cores,*Memory (In MB),*OS name,OS version,OS architecture,CPU utilization percentage,Memory utilization percentage,Number of disks,Disk 1 size (In GB)
hr-web-01,\"10.0.0.4,10.0.0.5\",4,8192,Windows Server,2016,x64,23.5,61,1,128
hr-db-01,10.0.0.9,8,32768.5,Ubuntu,,x64,,,2,512
hr-batch,10.0.0.10,2,4096,,,x64,100,0,1,64
";

#[test]
fn azure_migrate_template_reads_sizes_in_mib_and_average_utilisation() {
    let servers = parse("azure.csv", AZURE).expect("a good file");
    assert_eq!(servers.len(), 3);
    let web = &servers[0];
    assert_eq!(
        (web.format, web.name.as_str()),
        (Format::AzureMigrate, "hr-web-01")
    );
    assert_eq!((web.cpu_millis, web.memory_bytes), (4000, 8 * GIB));
    assert_eq!(
        web.cpu_utilisation,
        Some(Measured {
            ratio: 0.235,
            statistic: Statistic::Average
        })
    );
    assert_eq!(
        web.memory_utilisation,
        Some(Measured {
            ratio: 0.61,
            statistic: Statistic::Average
        })
    );
    assert_eq!(web.os.as_deref(), Some("Windows Server 2016"));
    assert_eq!(web.state, State::On);
    let db = &servers[1];
    assert_eq!(
        db.memory_bytes,
        32768 * MIB + MIB / 2,
        "MB are binary, as Azure Migrate reads them"
    );
    assert_eq!((db.os.as_deref(), db.cpu_utilisation), (Some("Ubuntu"), None));
    let batch = &servers[2];
    assert_eq!(batch.cpu_utilisation.map(|m| m.ratio), Some(1.0));
    assert_eq!(batch.memory_utilisation.map(|m| m.ratio), Some(0.0));
    assert_eq!(batch.os, None);
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_change_nothing() {
    let text = format!("\u{feff}{}", GOVCLOUD.replace('\n', "\r\n"));
    let servers = parse("bom.csv", &text).expect("a good file");
    assert_eq!(servers.len(), 3);
    assert_eq!((servers[0].name.as_str(), servers[2].line), ("fin-db-01", 4));
    let rvtools = format!("\u{feff}{RVTOOLS}");
    assert_eq!(parse("vc.csv", &rvtools).expect("a good file").len(), 4);
}

#[test]
fn a_semicolon_delimited_rvtools_export_reads_the_same() {
    let text = RVTOOLS.replace("\",\"", "\";\"");
    let servers = parse("vcenter.csv", &text).expect("a good file");
    assert_eq!(servers.len(), 4);
    assert_eq!(servers[0].annotation.as_deref(), Some("Ledger, owner: J. Smith"));
    assert_eq!(servers[2].state, State::Template);
}

#[test]
fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
    let text = "server,cores,memoryGiB,annotation,folder\n\
                \"web, primary\",2,4,\"says \"\"hello\"\"\nover two lines\",/a\n\
                db,4,8,plain,\"/b,c\"\n";
    let servers = parse("inv.csv", text).expect("a good file");
    assert_eq!(servers[0].name, "web, primary");
    assert_eq!(
        servers[0].annotation.as_deref(),
        Some("says \"hello\"\nover two lines")
    );
    assert_eq!((servers[1].line, servers[1].folder.as_deref()), (4, Some("/b,c")));
}

#[test]
fn blank_lines_and_empty_excel_rows_are_skipped_and_lines_still_count() {
    let text = "\n\nserver;cores;memoryGiB\n;;\n\nweb;2;4\n ; ; \n";
    let servers = parse("inv.csv", text).expect("a good file");
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].line, 6);
}

#[test]
fn a_header_without_rows_is_an_empty_inventory_and_an_empty_file_an_error() {
    assert_eq!(parse("inv.csv", "server,cores,memoryGiB\n"), Ok(Vec::new()));
    let error = one_error("\u{feff}\n  \n");
    assert!(
        error.starts_with("inv.csv: empty: not an inventory header"),
        "{error}"
    );
}

#[test]
fn a_bad_number_names_the_file_line_column_and_value() {
    assert_eq!(
        one_error("server,cores,memoryGiB\nweb,2,4\nweb-2,two,4\n"),
        "inv.csv:3: column \"cores\": \"two\" is not a number; expected a number of cores > 0, such as 2 or 0.5"
    );
    assert_eq!(
        one_error("server,cores,memoryGiB\nweb,0,4\n"),
        "inv.csv:2: column \"cores\": \"0\" is zero; expected a number of cores > 0, such as 2 or 0.5"
    );
    assert_eq!(
        one_error("server,cores,MEMORYGIB\nweb,1,99999999999\n"),
        "inv.csv:2: column \"MEMORYGIB\": \"99999999999\" is too large; expected memory in GiB > 0, such as 16 or 0.5"
    );
    assert_eq!(
        one_error("server,cores,memoryGiB\nweb,,4\n"),
        "inv.csv:2: column \"cores\": empty; expected a number of cores > 0, such as 2 or 0.5"
    );
}

#[test]
fn a_percentage_over_100_is_refused() {
    assert_eq!(
        one_error("server,cores,memoryGiB,cpuP95,memoryP95\nweb,2,4,101%,50\n"),
        "inv.csv:2: column \"cpuP95\": \"101%\" is over 100; expected a percentage from 0 to 100, such as 12.5 or 12.5%"
    );
}

#[test]
fn a_security_level_outside_1_to_4_is_refused() {
    assert_eq!(
        one_error("server,cores,memoryGiB,securityLevel\nweb,2,4,5\n"),
        "inv.csv:2: column \"securityLevel\": \"5\" is not a security level; expected a security level: 1, 2, 3 or 4"
    );
}

#[test]
fn a_negative_cost_is_refused() {
    assert_eq!(
        one_error("server,cores,memoryGiB,yearlyCost\nweb,2,4,-100\n"),
        "inv.csv:2: column \"yearlyCost\": \"-100\" is negative; expected a yearly cost ≥ 0"
    );
}

#[test]
fn a_missing_required_column_is_named_on_the_header_line() {
    assert_eq!(
        one_error("\nserver,cores,department\nweb,2,finance\n"),
        "inv.csv:2: column \"memoryGiB\": missing: the govcloud format requires this column"
    );
    assert_eq!(
        errors_of("*Server name,*OS name\nweb,Linux\n"),
        [
            "inv.csv:1: column \"*Cores\": missing: the Azure Migrate format requires this column",
            "inv.csv:1: column \"*Memory (In MB)\": missing: the Azure Migrate format requires this column",
        ]
    );
    // Half a pair of utilisation columns cannot be read.
    assert_eq!(
        one_error("server,cores,memoryGiB,cpuP95\nweb,2,4,50\n"),
        "inv.csv:1: column \"memoryP95\": missing: the header has cpuP95, which goes with this column"
    );
}

#[test]
fn an_unknown_header_lists_the_formats_and_their_columns() {
    assert_eq!(
        one_error("hostname,vcpu,ram\nweb,2,4\n"),
        "inv.csv:1: not an inventory header: expected the columns of govcloud (server, cores, memoryGiB); \
         or RVTools vInfo (VM, Powerstate, CPUs, Memory); or Azure Migrate (*Server name, *Cores, *Memory (In MB))"
    );
}

#[test]
fn a_column_read_twice_is_ambiguous() {
    assert_eq!(
        one_error("server,cores,memoryGiB,Cores\nweb,2,4,3\n"),
        "inv.csv:1: column \"cores\": named by fields 2 and 4 of the header: which one to read is unclear"
    );
}

#[test]
fn a_duplicate_server_names_the_first_line() {
    assert_eq!(
        one_error("server,cores,memoryGiB\nweb,2,4\ndb,2,4\n web ,2,4\n"),
        "inv.csv:4: column \"server\": \"web\" is listed already, on line 2"
    );
}

#[test]
fn an_unclosed_quote_is_reported_on_its_line() {
    assert_eq!(
        one_error("server,cores,memoryGiB,annotation\nweb,2,4,ok\ndb,2,4,\"never closed\nmore,1,1,x\n"),
        "inv.csv:3: a quoted field is never closed"
    );
    assert_eq!(
        one_error("server,cores,memoryGiB,annotation\nweb,2,4,5\" rack\n"),
        "inv.csv:2: a quote inside an unquoted field (quote the whole field and double the quote)"
    );
}

#[test]
fn a_row_with_too_many_or_too_few_fields_is_refused() {
    assert_eq!(
        errors_of("server,cores,memoryGiB\nweb,2,4,extra\ndb,2\n"),
        [
            "inv.csv:2: 4 fields where the header has 3",
            "inv.csv:3: 2 fields where the header has 3",
        ]
    );
}

#[test]
fn every_problem_of_a_file_is_reported_in_line_order() {
    let text = "server,cores,memoryGiB,cpuAverage,memoryAverage,securityLevel,powerState\n\
                ok,2,4,10,20,1,on\n\
                ,-2,4,10,20,1,on\n\
                bad,2,four,10,200,9,rebooting\n\
                bad,2,4,10,20,1,on,extra\n\
                quoted\"name,2,4,10,20,1,on\n";
    assert_eq!(
        errors_of(text),
        [
            "inv.csv:3: column \"server\": empty; expected the server's name",
            "inv.csv:3: column \"cores\": \"-2\" is negative; expected a number of cores > 0, such as 2 or 0.5",
            "inv.csv:4: column \"memoryGiB\": \"four\" is not a number; expected memory in GiB > 0, such as 16 or 0.5",
            "inv.csv:4: column \"securityLevel\": \"9\" is not a security level; expected a security level: 1, 2, 3 or 4",
            "inv.csv:4: column \"memoryAverage\": \"200\" is over 100; expected a percentage from 0 to 100, such as 12.5 or 12.5%",
            "inv.csv:4: column \"powerState\": \"rebooting\" is not a power state; expected on, off or suspended (empty is on)",
            "inv.csv:5: 8 fields where the header has 7",
            "inv.csv:6: a quote inside an unquoted field (quote the whole field and double the quote)",
        ]
    );
}

#[test]
fn errors_carry_their_parts_separately() {
    let errors = parse("dir/inv.csv", "VM,Powerstate,CPUs,Memory\nx,poweredOn,0,1024\n").unwrap_err();
    assert_eq!(
        errors,
        [InventoryError {
            file: "dir/inv.csv".into(),
            line: Some(2),
            column: Some("CPUs".into()),
            message: "\"0\" is zero; expected a whole number of virtual CPUs > 0".into(),
        }]
    );
}

#[test]
fn rows_beyond_the_limit_are_refused() {
    assert_eq!(MAX_ROWS, 1_000_000);
    let text = "server,cores,memoryGiB\n\na,1,1\nb,1,1\nc,1,1\n";
    assert_eq!(table::parse("inv.csv", text, 3).map(|s| s.len()), Ok(3));
    let text = format!("{text}d,1,1\ne,1,1\n");
    let errors = table::parse("inv.csv", &text, 3).unwrap_err();
    assert_eq!(
        messages(&errors),
        ["inv.csv:6: more than 3 rows, the most a file may hold; split it"]
    );
}

/// Runs `f` on a thread and fails the test if it does not finish in time, so that a
/// regression shows as a failure rather than a hung test run.
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(seconds))
        .unwrap_or_else(|_| panic!("did not finish within {seconds} s"))
}

fn read_within(paths: Vec<PathBuf>) -> Result<Vec<Server>, Vec<InventoryError>> {
    within(20, move || read(&paths, 1 << 20))
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_directory_contributes_its_csv_files_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("b-finance.csv"), "server,cores,memoryGiB\nweb,2,4\n");
    write(&root.join("a-education/vcenter.CSV"), RVTOOLS);
    write(&root.join("notes.txt"), "not an inventory");
    write(&root.join("README.md"), "# inventories");
    write(&root.join(".hidden.csv"), "garbage");
    write(&root.join("c-health.csv"), "server,cores,memoryGiB\nweb,1,2\n");
    let servers = read_within(vec![root.to_path_buf()]).expect("reads");
    let names: Vec<(String, &str)> = servers
        .iter()
        .map(|s| {
            let file = Path::new(&s.file).strip_prefix(root).unwrap();
            (file.display().to_string(), s.name.as_str())
        })
        .collect();
    // The same name in two departments' files is no duplicate.
    assert_eq!(
        names,
        [
            ("a-education/vcenter.CSV".to_owned(), "SRV-FIN-01"),
            ("a-education/vcenter.CSV".to_owned(), "SRV-FIN-02"),
            ("a-education/vcenter.CSV".to_owned(), "TPL-W2019"),
            ("a-education/vcenter.CSV".to_owned(), "SRV-EDU-07"),
            ("b-finance.csv".to_owned(), "web"),
            ("c-health.csv".to_owned(), "web"),
        ]
    );
    assert_eq!(servers[4].file, root.join("b-finance.csv").display().to_string());
}

#[test]
fn a_file_named_is_read_whatever_its_extension_and_problems_of_all_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.txt");
    write(&export, "server,cores,memoryGiB\nweb,2,4\n");
    assert_eq!(read_within(vec![export.clone()]).expect("reads").len(), 1);

    let bad = dir.path().join("bad.csv");
    write(&bad, "server,cores,memoryGiB\nweb,2,lots\n");
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"server,cores,memoryGiB\nb\xe9ta,2,4\n").unwrap();
    let missing = dir.path().join("missing.csv");
    let errors = read_within(vec![export, bad.clone(), latin1.clone(), missing.clone()]).unwrap_err();
    assert_eq!(
        messages(&errors),
        [
            format!(
                "{}: cannot read: No such file or directory (os error 2)",
                missing.display()
            ),
            format!(
                "{}:2: column \"memoryGiB\": \"lots\" is not a number; expected memory in GiB > 0, such as 16 or 0.5",
                bad.display()
            ),
            format!(
                "{}:2: character 2: not UTF-8 text: byte 0xe9 cannot start or continue a character here",
                latin1.display()
            ),
        ]
    );
}

#[test]
fn a_fifo_is_refused_without_being_opened() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.csv"), "server,cores,memoryGiB\nweb,2,4\n");
    let fifo = dir.path().join("pipe.csv");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let expected = [format!(
        "{}: cannot read: a FIFO, not a regular file (only regular files are read)",
        fifo.display()
    )];
    let errors = read_within(vec![dir.path().to_path_buf()]).unwrap_err();
    assert_eq!(messages(&errors), expected);
    let errors = read_within(vec![fifo]).unwrap_err();
    assert_eq!(messages(&errors), expected);
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    write(&file, GOVCLOUD);
    let errors = read(std::slice::from_ref(&file), 100).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("more than the limit of 100 bytes"),
        "{errors:?}"
    );
    assert_eq!(read(&[file], 1 << 20).map(|s| s.len()), Ok(3));
}
