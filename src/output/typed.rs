//! The output tables as typed columns, for data frames (the Python package), including those
//! of `skintex agree`.
//!
//! A column is a number column when the data dictionary gives it a unit (`1` for unitless
//! numbers), or when it is one of the manifest's numeric columns carried into the tables
//! ([`NUMERIC_COLUMNS`]); every other column is text (its unit is empty). The values are read
//! from the tables' own bytes, so they are exactly those of the CSV files: numbers with 7
//! significant digits, an empty number cell is NaN (its reason is in `missing_reasons`), text
//! as written (empty text stays empty).

use std::collections::HashSet;
use std::path::Path;

use super::dictionary::tables;
use super::folder::OUTPUT_NAMES;
use super::tables::{ImageRows, table_bytes};
use crate::input::manifest::NUMERIC_COLUMNS;

/// The values of one column, one per row.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// Numbers; NaN where the cell is empty.
    Number(Vec<f64>),
    /// Text as written.
    Text(Vec<String>),
}

/// One output table as columns, in the file's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedTable {
    /// The file's name without `.csv`: `metrics`, `images`, `lines`, ...
    pub name: String,
    pub columns: Vec<(String, ColumnValues)>,
}

/// The columns of `file` (e.g. `metrics.csv`) that hold numbers: those with a unit in the data
/// dictionary, and the carried numeric manifest columns.
fn number_columns(file: &str) -> HashSet<String> {
    tables(&[])
        .into_iter()
        .chain(crate::study::study_tables())
        .chain(crate::agree::agree_tables())
        .filter(|(name, _)| *name == file)
        .flat_map(|(_, columns)| columns)
        .filter(|c| !c.unit.is_empty())
        .map(|c| c.name)
        .chain(NUMERIC_COLUMNS.iter().map(|n| (*n).to_owned()))
        .collect()
}

/// The cells of a number column as numbers (NaN for an empty cell), or `None` when one of
/// them is not a number (the column is then kept as text: nothing is lost).
fn numbers(cells: &[String]) -> Option<Vec<f64>> {
    cells
        .iter()
        .map(|c| {
            if c.is_empty() {
                Some(f64::NAN)
            } else {
                c.parse().ok()
            }
        })
        .collect()
}

/// Read the bytes of the output table `file` (e.g. `metrics.csv`) into typed columns.
///
/// # Errors
/// A row that is not CSV or whose length differs from the header's.
pub fn typed_table(file: &str, bytes: &[u8]) -> Result<TypedTable, csv::Error> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); header.len()];
    for record in reader.records() {
        for (column, cell) in cells.iter_mut().zip(record?.iter()) {
            column.push(cell.to_owned());
        }
    }
    let number = number_columns(file);
    let columns = header
        .into_iter()
        .zip(cells)
        .map(|(name, cells)| {
            let values = match number.contains(&name).then(|| numbers(&cells)).flatten() {
                Some(values) => ColumnValues::Number(values),
                None => ColumnValues::Text(cells),
            };
            (name, values)
        })
        .collect();
    Ok(TypedTable {
        name: file.strip_suffix(".csv").unwrap_or(file).to_owned(),
        columns,
    })
}

/// Every table a run writes (`metrics`, `images`, `lines`, `scars`, `landmarks`), from the rows
/// of its images, as [`write_run_tables`](super::write_run_tables) would write them.
pub fn image_tables(rows: &[ImageRows], carried_columns: &[String]) -> Vec<TypedTable> {
    table_bytes(rows, carried_columns)
        .into_iter()
        .map(|(file, bytes)| {
            // Tables written by the csv crate from equal-length rows always read back.
            typed_table(file, &bytes).unwrap_or_else(|e| panic!("{file} does not read back: {e}"))
        })
        .collect()
}

/// Every CSV table that skintex writes and `folder` holds (the run's tables, `timings`,
/// `columns`, the study's tables), in the order of [`OUTPUT_NAMES`].
///
/// # Errors
/// A table that cannot be read or is not a table, named.
pub fn read_typed_tables(folder: &Path) -> std::io::Result<Vec<TypedTable>> {
    OUTPUT_NAMES
        .iter()
        .filter(|name| name.ends_with(".csv"))
        .map(|name| folder.join(name))
        .filter(|path| path.is_file())
        .map(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            let bytes = std::fs::read(&path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
            })?;
            typed_table(&file, &bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::{Calibration, CalibrationSource};
    use crate::input::ImageInput;
    use crate::input::decode::ImageInfo;
    use crate::metrics::{Missing, ZoneMeasurement, metric_columns};
    use crate::output::tables::{ImageRecord, StageTimes, ZoneRecord};
    use crate::segment::RoiMode;

    fn record(image_id: &str, outcome: Result<f64, &str>) -> ImageRecord {
        let n = metric_columns().len();
        let values = (0..n)
            .map(|i| match (i, &outcome) {
                (0, _) => Err(Missing::new("too few pixels")),
                (_, Ok(v)) => Ok(*v + i as f64),
                (_, Err(_)) => Ok(0.0),
            })
            .collect();
        ImageRecord {
            capture: None,
            input: ImageInput {
                image_id: image_id.to_owned(),
                path: format!("{image_id}.png").into(),
                display_path: format!("{image_id}.png"),
                carried: vec!["007".to_owned(), "14".to_owned()],
                manifest_px_per_mm: None,
                roi: None,
                chart_box: None,
                problem: None,
            },
            info: Some(ImageInfo {
                format: "png",
                width: 64,
                height: 48,
                bit_depth: 8,
                channels: "rgb",
                exif_orientation: 1,
                invalid_px: 0,
            }),
            calibration: Calibration {
                px_per_mm: Some(20.0),
                source: CalibrationSource::Cli,
            },
            roi: RoiMode::Full,
            face: None,
            chart: None,
            outcome: outcome
                .map(|_| {
                    vec![ZoneRecord {
                        zone: "full".to_owned(),
                        area_px: 3072,
                        measurement: ZoneMeasurement {
                            values,
                            ..ZoneMeasurement::default()
                        },
                    }]
                })
                .map_err(str::to_owned),
            timing: StageTimes::default(),
        }
    }

    /// Every column with a unit reads as numbers, every other as text; an empty number cell is
    /// NaN and its reason stays in `missing_reasons`; an id made of digits stays text.
    #[test]
    fn columns_with_a_unit_are_numbers_and_others_text() {
        let rows = [
            ImageRows::from_record(&record("001", Ok(0.5))),
            ImageRows::from_record(&record("002", Err("002.png: no face found"))),
        ];
        let carried = ["subject".to_owned(), "days_from_baseline".to_owned()];
        let typed = image_tables(&rows, &carried);
        let names: Vec<&str> = typed.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["metrics", "images", "lines", "scars", "pores", "landmarks"]
        );
        for (table, (file, columns)) in typed.iter().zip(tables(&carried)) {
            assert_eq!(format!("{}.csv", table.name), file);
            for ((name, values), column) in table.columns.iter().zip(&columns) {
                assert_eq!(*name, column.name);
                let number = !column.unit.is_empty() || name == "days_from_baseline";
                assert_eq!(
                    matches!(values, ColumnValues::Number(_)),
                    number,
                    "{file} {name}"
                );
            }
        }
        let column = |table: &TypedTable, name: &str| {
            table
                .columns
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let metrics = &typed[0];
        let first = &metric_columns()[0];
        let ColumnValues::Number(v) = column(metrics, first.name) else {
            panic!("number column");
        };
        assert!(v.len() == 1 && v[0].is_nan());
        let ColumnValues::Number(v) = column(metrics, metric_columns()[1].name) else {
            panic!("number column");
        };
        assert_eq!(v, [1.5]);
        assert_eq!(
            column(metrics, "missing_reasons"),
            ColumnValues::Text(vec![format!("{}: too few pixels", first.name)])
        );
        let images = &typed[1];
        assert_eq!(
            column(images, "image_id"),
            ColumnValues::Text(vec!["001".into(), "002".into()])
        );
        assert_eq!(
            column(images, "subject"),
            ColumnValues::Text(vec!["007".into(), "007".into()])
        );
        assert_eq!(
            column(images, "days_from_baseline"),
            ColumnValues::Number(vec![14.0, 14.0])
        );
        let ColumnValues::Number(zones) = column(images, "zones") else {
            panic!("zones is a count");
        };
        assert!(zones[0] == 1.0 && zones[1].is_nan());
    }

    /// A number column with a cell that is not a number is kept as text.
    #[test]
    fn a_number_column_with_text_stays_text() {
        let csv = b"image_id,path,width\na,a.png,64\nb,b.png,wide\n";
        let table = typed_table("images.csv", csv).unwrap();
        assert_eq!(
            table.columns[2].1,
            ColumnValues::Text(vec!["64".into(), "wide".into()])
        );
        assert!(typed_table("images.csv", b"a,b\n1,2,3\n").is_err());
    }
}
