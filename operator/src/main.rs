fn main() { print!("{}", govcloud::crds::all_yaml()); }
