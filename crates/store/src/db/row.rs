//! Column access shared by both backends, with decoding into model types.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use tradepulse_model::{ClientOrderId, InstrumentId, Money, Side, UnixNanos};

use crate::error::{Error, Result};

/// Typed column getters implemented for both backends' rows.
pub(crate) trait Columns {
    fn i64(&self, column: &'static str) -> Result<i64>;
    fn opt_i64(&self, column: &'static str) -> Result<Option<i64>>;
    fn text(&self, column: &'static str) -> Result<String>;
    fn f64(&self, column: &'static str) -> Result<f64>;
    fn opt_f64(&self, column: &'static str) -> Result<Option<f64>>;
    fn bool(&self, column: &'static str) -> Result<bool>;
}

macro_rules! impl_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn i64(&self, column: &'static str) -> Result<i64> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
            fn opt_i64(&self, column: &'static str) -> Result<Option<i64>> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
            fn text(&self, column: &'static str) -> Result<String> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
            fn f64(&self, column: &'static str) -> Result<f64> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
            fn opt_f64(&self, column: &'static str) -> Result<Option<f64>> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
            fn bool(&self, column: &'static str) -> Result<bool> {
                self.try_get(column).map_err(|e| Error::db("decode", e))
            }
        }
    };
}

impl_columns!(SqliteRow);
impl_columns!(PgRow);

/// Decoders from stored text into model types; a failure is [`Error::Corrupt`].
pub(crate) struct Decode<'a, R> {
    pub(crate) row: &'a R,
    pub(crate) table: &'static str,
}

impl<R: Columns> Decode<'_, R> {
    fn corrupt(&self, column: &'static str, value: String) -> Error {
        Error::Corrupt {
            table: self.table,
            column,
            value,
        }
    }

    pub(crate) fn money(&self, column: &'static str) -> Result<Money> {
        let text = self.row.text(column)?;
        text.parse::<i128>()
            .map(Money::from_raw)
            .map_err(|_| self.corrupt(column, text))
    }

    pub(crate) fn time(&self, column: &'static str) -> Result<UnixNanos> {
        self.row.i64(column).map(UnixNanos::new)
    }

    pub(crate) fn opt_time(&self, column: &'static str) -> Result<Option<UnixNanos>> {
        self.row.opt_i64(column).map(|v| v.map(UnixNanos::new))
    }

    pub(crate) fn side(&self, column: &'static str) -> Result<Side> {
        let text = self.row.text(column)?;
        match text.as_str() {
            "buy" => Ok(Side::Buy),
            "sell" => Ok(Side::Sell),
            _ => Err(self.corrupt(column, text)),
        }
    }

    pub(crate) fn instrument(&self, column: &'static str) -> Result<InstrumentId> {
        let text = self.row.text(column)?;
        text.parse::<InstrumentId>()
            .map_err(|_| self.corrupt(column, text))
    }

    pub(crate) fn client_order_id(&self, column: &'static str) -> Result<ClientOrderId> {
        let text = self.row.text(column)?;
        ClientOrderId::new(&text).map_err(|_| self.corrupt(column, text))
    }

    /// Any id-like value parsed by `parse` (venue order ids, trade ids, assets).
    pub(crate) fn parsed<T: std::str::FromStr>(&self, column: &'static str) -> Result<T> {
        let text = self.row.text(column)?;
        text.parse::<T>().map_err(|_| self.corrupt(column, text))
    }

    pub(crate) fn json(&self, column: &'static str) -> Result<serde_json::Value> {
        let text = self.row.text(column)?;
        serde_json::from_str(&text).map_err(|_| self.corrupt(column, text))
    }
}
