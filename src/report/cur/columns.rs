//! The columns of a CUR record batch as the embedded engine reads them: whichever arrow type
//! the Parquet reader chose for a column (plain, large, view or dictionary strings; double,
//! float or decimal numbers; timestamps of any unit or dates), one accessor per kind, so the
//! per-row loop asks for a value without caring how it was encoded.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int32Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, MapArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;

/// A string column of whichever arrow type the reader chose.
pub enum Strings<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Dict(
        &'a arrow_array::DictionaryArray<Int32Type>,
        &'a arrow_array::StringArray,
    ),
}

impl<'a> Strings<'a> {
    pub fn of(name: &str, array: &'a ArrayRef) -> Result<Strings<'a>, String> {
        Ok(match array.data_type() {
            DataType::Utf8 => Strings::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strings::Large(array.as_string::<i64>()),
            DataType::Utf8View => Strings::View(array.as_string_view()),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let dict = array.as_dictionary::<Int32Type>();
                Strings::Dict(dict, dict.values().as_string::<i32>())
            }
            other => return Err(format!("column {name} is {other}, not a string")),
        })
    }

    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Dict(d, values) => {
                if !d.is_valid(i) {
                    return None;
                }
                let k = usize::try_from(d.keys().value(i)).ok()?;
                (k < values.len() && values.is_valid(k)).then(|| values.value(k))
            }
        }
    }
}

/// A numeric column as f64.
pub enum Numbers<'a> {
    F64(&'a arrow_array::Float64Array),
    F32(&'a arrow_array::Float32Array),
    Decimal(&'a arrow_array::Decimal128Array, i32),
}

impl<'a> Numbers<'a> {
    pub fn of(name: &str, array: &'a ArrayRef) -> Result<Numbers<'a>, String> {
        Ok(match array.data_type() {
            DataType::Float64 => Numbers::F64(array.as_primitive::<Float64Type>()),
            DataType::Float32 => Numbers::F32(array.as_primitive::<Float32Type>()),
            DataType::Decimal128(_, scale) => Numbers::Decimal(
                array.as_primitive::<arrow_array::types::Decimal128Type>(),
                i32::from(*scale),
            ),
            other => return Err(format!("column {name} is {other}, not a number")),
        })
    }

    pub fn is_valid(&self, i: usize) -> bool {
        match self {
            Numbers::F64(a) => a.is_valid(i),
            Numbers::F32(a) => a.is_valid(i),
            Numbers::Decimal(a, _) => a.is_valid(i),
        }
    }

    pub fn get(&self, i: usize) -> f64 {
        let v = match self {
            Numbers::F64(a) => a.is_valid(i).then(|| a.value(i)),
            Numbers::F32(a) => a.is_valid(i).then(|| f64::from(a.value(i))),
            Numbers::Decimal(a, scale) => a
                .is_valid(i)
                .then(|| a.value(i) as f64 / 10f64.powi(*scale)),
        };
        v.filter(|v| v.is_finite()).unwrap_or(0.0)
    }
}

/// A timestamp or date column as UTC days.
pub enum Days<'a> {
    Ts(&'a ArrayRef, TimeUnit),
    Date32(&'a arrow_array::Date32Array),
    Date64(&'a arrow_array::Date64Array),
}

impl<'a> Days<'a> {
    pub fn of(name: &str, array: &'a ArrayRef) -> Result<Days<'a>, String> {
        Ok(match array.data_type() {
            DataType::Timestamp(unit, _) => Days::Ts(array, *unit),
            DataType::Date32 => Days::Date32(array.as_primitive::<Date32Type>()),
            DataType::Date64 => Days::Date64(array.as_primitive::<Date64Type>()),
            other => return Err(format!("column {name} is {other}, not a timestamp")),
        })
    }

    /// The row's UTC day, by integer division (millions of rows: no calendar arithmetic).
    pub fn get(&self, i: usize) -> Option<NaiveDate> {
        let (value, per_day) = match self {
            Days::Ts(a, unit) => {
                if !a.is_valid(i) {
                    return None;
                }
                match unit {
                    TimeUnit::Second => (a.as_primitive::<TimestampSecondType>().value(i), 86_400),
                    TimeUnit::Millisecond => (
                        a.as_primitive::<TimestampMillisecondType>().value(i),
                        86_400_000,
                    ),
                    TimeUnit::Microsecond => (
                        a.as_primitive::<TimestampMicrosecondType>().value(i),
                        86_400_000_000,
                    ),
                    TimeUnit::Nanosecond => (
                        a.as_primitive::<TimestampNanosecondType>().value(i),
                        86_400_000_000_000,
                    ),
                }
            }
            Days::Date32(a) => {
                return a.is_valid(i).then(|| a.value_as_date(i)).flatten();
            }
            Days::Date64(a) => {
                return a.is_valid(i).then(|| a.value_as_date(i)).flatten();
            }
        };
        let days = i32::try_from(value.div_euclid(per_day)).ok()?;
        // 719,163 days from 0001-01-01 (day 1) to 1970-01-01.
        NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
    }
}

/// A `map<string, string>` column.
pub struct Maps<'a> {
    map: &'a MapArray,
    keys: Strings<'a>,
    values: Strings<'a>,
}

impl<'a> Maps<'a> {
    pub fn of(name: &str, array: &'a ArrayRef) -> Result<Maps<'a>, String> {
        let Some(map) = array.as_map_opt() else {
            return Err(format!("column {name} is {}, not a map", array.data_type()));
        };
        Ok(Maps {
            map,
            keys: Strings::of(name, map.keys())?,
            values: Strings::of(name, map.values())?,
        })
    }

    /// The row's entries (none for a null map).
    pub fn entries(&self, i: usize) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + '_ {
        let offsets = self.map.value_offsets();
        let range = if self.map.is_valid(i) {
            let from = usize::try_from(offsets[i]).unwrap_or(0);
            let to = usize::try_from(offsets[i + 1]).unwrap_or(from);
            from..to
        } else {
            0..0
        };
        range.filter_map(move |j| Some((self.keys.get(j)?, self.values.get(j))))
    }

    /// The value of the first of `keys` the row has.
    pub fn get<K: AsRef<str>>(&self, i: usize, keys: &[K]) -> Option<&'a str> {
        if !self.map.is_valid(i) {
            return None;
        }
        let offsets = self.map.value_offsets();
        let (from, to) = (
            usize::try_from(offsets[i]).ok()?,
            usize::try_from(offsets[i + 1]).ok()?,
        );
        for wanted in keys {
            for j in from..to {
                if self.keys.get(j) == Some(wanted.as_ref()) {
                    return self.values.get(j);
                }
            }
        }
        None
    }
}

/// The columns only FOCUS rows show (`--output focus`), by CUR 2.0 name (data dictionary);
/// each may be missing from an export, and is then empty in the rows.
pub const FOCUS_COLUMNS: [&str; 9] = [
    "bill_payer_account_id",
    "line_item_currency_code",
    "bill_invoice_id",
    "line_item_legal_entity",
    "pricing_unit",
    "product_sku",
    "pricing_rate_id",
    "pricing_public_on_demand_cost",
    "tags",
];
/// Where the numbers and the map are in [`FOCUS_COLUMNS`]; the strings come first.
const FOCUS_LIST: usize = 7;
const FOCUS_TAGS: usize = 8;

/// A batch's FOCUS-only columns.
pub struct FocusColumns<'a> {
    strings: Vec<Option<Strings<'a>>>,
    list: Option<Numbers<'a>>,
    tags: Option<Maps<'a>>,
}

impl<'a> FocusColumns<'a> {
    pub fn of(batch: &'a arrow_array::RecordBatch) -> Result<FocusColumns<'a>, String> {
        let mut strings = Vec::new();
        for name in &FOCUS_COLUMNS[..FOCUS_LIST] {
            strings.push(
                batch
                    .column_by_name(name)
                    .map(|a| Strings::of(name, a))
                    .transpose()?,
            );
        }
        let list = batch
            .column_by_name(FOCUS_COLUMNS[FOCUS_LIST])
            .map(|a| Numbers::of(FOCUS_COLUMNS[FOCUS_LIST], a))
            .transpose()?;
        let tags = batch
            .column_by_name(FOCUS_COLUMNS[FOCUS_TAGS])
            .map(|a| Maps::of(FOCUS_COLUMNS[FOCUS_TAGS], a))
            .transpose()?;
        Ok(FocusColumns {
            strings,
            list,
            tags,
        })
    }

    /// Row `i`'s values; `tags` receives its tags as a JSON object.
    pub fn line<'b>(&self, i: usize, tags: &'b mut String) -> super::aggregate::FocusLine<'b>
    where
        'a: 'b,
    {
        let at = |n: usize| self.strings.get(n).and_then(|s| s.as_ref()?.get(i));
        *tags = self
            .tags
            .as_ref()
            .map(|m| super::focus::tags_json(m.entries(i)))
            .unwrap_or_default();
        super::aggregate::FocusLine {
            payer: at(0),
            currency: at(1),
            invoice: at(2),
            legal_entity: at(3),
            pricing_unit: at(4),
            sku: at(5),
            rate_id: at(6),
            list_cost: self
                .list
                .as_ref()
                .filter(|l| l.is_valid(i))
                .map(|l| l.get(i)),
            tags: tags.as_str(),
        }
    }
}
