// rustc applies a `cfg_attr` (before or after `#[netns_test]`) before the
// macro sees the function: a `should_panic` it adds is taken by the macro
// like a direct one (here, refused on a function that returns a `Result`),
// so it never reaches the generated `#[test]`; one it leaves out is not
// there at all; a `test` it adds is refused as a direct one is.
use netns_test::netns_test;

#[netns_test]
#[cfg_attr(all(), should_panic)]
fn should_panic_under_cfg_attr() -> Result<(), String> {
    Ok(())
}

#[netns_test]
#[cfg_attr(any(), should_panic)]
fn should_panic_left_out() -> Result<(), String> {
    Ok(())
}

#[cfg_attr(all(), should_panic)]
#[netns_test]
fn should_panic_under_cfg_attr_before_the_macro() -> Result<(), String> {
    Ok(())
}

#[netns_test]
#[cfg_attr(all(), test)]
fn test_under_cfg_attr() {}

fn main() {}
