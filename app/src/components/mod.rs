pub mod copy_button;
pub mod site_header;
