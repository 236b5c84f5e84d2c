//! PNG rendering of the report charts (the `charts` feature): [`Canvas`] drawn by plotters into
//! an RGB buffer, encoded with `png`.
//!
//! Text uses the Hack font embedded by `epaint_default_fonts`, so PNGs look the same on every
//! machine, with or without system fonts, and the same chart gives the same bytes.

use std::io;
use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBColor, register_font};

use super::canvas::{Align, Canvas, Font, Rgb};
use super::charts::Chart;

/// The family name the embedded font is registered under.
const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters once per process.
fn register() -> io::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(
            FAMILY,
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        )
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(io::Error::other(
            "the embedded chart font could not be loaded",
        ))
    }
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn px(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// A [`Canvas`] over a plotters bitmap. Drawing errors are kept and reported once at the end
/// because [`Canvas`] methods cannot fail.
struct PngCanvas<'a, 'b> {
    area: DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    error: &'b mut Option<String>,
}

impl PngCanvas<'_, '_> {
    fn keep<E: std::fmt::Display>(&mut self, result: Result<(), E>) {
        if let Err(e) = result {
            self.error.get_or_insert_with(|| e.to_string());
        }
    }
}

impl Canvas for PngCanvas<'_, '_> {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        let shape = Rectangle::new([px((x, y)), px((x + w, y + h))], color(fill).filled());
        let result = self.area.draw(&shape);
        self.keep(result);
    }

    fn line(&mut self, points: &[(f64, f64)], stroke: Rgb, width: f64) {
        let style = ShapeStyle {
            color: color(stroke).to_rgba(),
            filled: false,
            // plotters draws 1-pixel lines cleanly but breaks thicker sloped polylines into
            // dashes, so only lines meant to stand out (outlines, axis-aligned) get 2 pixels.
            stroke_width: if width >= 2.0 { 2 } else { 1 },
        };
        let path = PathElement::new(points.iter().copied().map(px).collect::<Vec<_>>(), style);
        let result = self.area.draw(&path);
        self.keep(result);
    }

    fn polygon(&mut self, points: &[(f64, f64)], fill: Rgb) {
        let shape = Polygon::new(
            points.iter().copied().map(px).collect::<Vec<_>>(),
            color(fill).filled(),
        );
        let result = self.area.draw(&shape);
        self.keep(result);
    }

    fn text(&mut self, x: f64, y: f64, text: &str, font: Font) {
        let h = match font.align {
            Align::Start => HPos::Left,
            Align::Middle => HPos::Center,
            Align::End => HPos::Right,
        };
        let ink = color(font.color);
        let style = TextStyle::from((FAMILY, font.size).into_font())
            .color(&ink)
            .pos(Pos::new(h, VPos::Center));
        let result = self
            .area
            .draw(&Text::new(text.to_owned(), px((x, y)), style));
        self.keep(result);
    }
}

/// Renders `chart` to a PNG file at `path`.
pub(crate) fn write_png(path: &Path, chart: &dyn Chart) -> io::Result<()> {
    register()?;
    let (w, h) = chart.size();
    let (w, h) = (w.ceil() as u32, h.ceil() as u32);
    let mut buffer = vec![255u8; w as usize * h as usize * 3];
    let mut error = None;
    {
        let backend = BitMapBackend::with_buffer(&mut buffer, (w, h));
        let mut canvas = PngCanvas {
            area: backend.into_drawing_area(),
            error: &mut error,
        };
        chart.draw(&mut canvas);
        let result = canvas.area.present();
        canvas.keep(result);
    }
    if let Some(e) = error {
        return Err(io::Error::other(format!("drawing the chart failed: {e}")));
    }
    let file = io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(&buffer).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}
