fn main() { println!("xtask: commands arrive with issue 6"); }
