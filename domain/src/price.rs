//! Prices and sizes as people read them: `$5/mo ($0.0075/hr)`, `1.5 GB`, `1 TB` of transfer.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub hourly: f64,
    pub monthly: f64,
}

impl Price {
    /// `$5/mo ($0.0075/hr)`
    pub fn describe(&self) -> String {
        format!("{}/mo ({}/hr)", dollars(self.monthly), dollars(self.hourly))
    }
}

/// `$5`, `$5.50`, `$0.0075`: whole dollars without cents, cents as needed, and enough digits for
/// hourly prices below a cent.
pub fn dollars(amount: f64) -> String {
    if amount.fract() == 0.0 {
        format!("${amount:.0}")
    } else if (amount * 100.0).fract().abs() < 1e-9 {
        format!("${amount:.2}")
    } else {
        let text = format!("{amount:.4}");
        format!("${}", text.trim_end_matches('0'))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionPrice {
    pub region: String,
    pub price: Price,
}

/// Transfer is sold in decimal units: 1000 GB is "1 TB".
pub(crate) fn transfer(gigabytes: u64) -> String {
    if gigabytes >= 1000 && gigabytes.is_multiple_of(100) {
        let terabytes = gigabytes as f64 / 1000.0;
        if terabytes.fract() == 0.0 {
            format!("{terabytes:.0} TB")
        } else {
            format!("{terabytes:.1} TB")
        }
    } else {
        format!("{gigabytes} GB")
    }
}

/// Megabytes as people read them: `512 MB`, `1 GB`, `1.5 GB`, `1 TB`.
pub(crate) fn size(megabytes: u64) -> String {
    let (value, unit) = if megabytes >= 1024 * 1024 {
        (megabytes as f64 / (1024.0 * 1024.0), "TB")
    } else if megabytes >= 1024 {
        (megabytes as f64 / 1024.0, "GB")
    } else {
        (megabytes as f64, "MB")
    };
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_sizes_read_naturally() {
        assert_eq!(Price { hourly: 0.0075, monthly: 5.0 }.describe(), "$5/mo ($0.0075/hr)");
        assert_eq!(Price { hourly: 0.06, monthly: 43.2 }.describe(), "$43.20/mo ($0.06/hr)");
        assert_eq!(size(512), "512 MB");
        assert_eq!(size(1536), "1.5 GB");
        assert_eq!(size(1024 * 1024), "1 TB");
    }
}
