//! [`Canvas`]: the four drawing operations every report chart is made of, so each chart is
//! written once and rendered both as inline SVG (the HTML report) and, with the `charts`
//! feature, as a PNG through plotters.
//!
//! Coordinates are pixels from the top-left corner. SVG numbers are written with one decimal so
//! the same chart always gives the same bytes.

use std::fmt::Write as _;

/// An opaque RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Linear mix: `t` = 0 gives `self`, 1 gives `other`.
    pub(crate) fn mix(self, other: Self, t: f64) -> Self {
        let t = t.clamp(0.0, 1.0);
        let c = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Self(c(self.0, other.0), c(self.1, other.1), c(self.2, other.2))
    }

    /// Perceived brightness in 0..=1, to choose black or white text on a filled cell.
    pub(crate) fn luma(self) -> f64 {
        (0.299 * f64::from(self.0) + 0.587 * f64::from(self.1) + 0.114 * f64::from(self.2)) / 255.0
    }
}

/// Horizontal alignment of text relative to its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// The text starts at the anchor.
    Start,
    /// The text is centred on the anchor.
    Middle,
    /// The text ends at the anchor.
    End,
}

/// Font size, colour and alignment of a label; text is always vertically centred on its anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Font {
    pub size: f64,
    pub color: Rgb,
    pub align: Align,
}

/// A drawing surface.
pub(crate) trait Canvas {
    /// A filled axis-aligned rectangle.
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb);
    /// An open polyline.
    fn line(&mut self, points: &[(f64, f64)], stroke: Rgb, width: f64);
    /// A filled polygon.
    fn polygon(&mut self, points: &[(f64, f64)], fill: Rgb);
    /// One line of text, vertically centred on `(x, y)`.
    fn text(&mut self, x: f64, y: f64, text: &str, font: Font);
}

/// Builds an `<svg>` element.
#[derive(Debug)]
pub(crate) struct SvgCanvas {
    out: String,
}

impl SvgCanvas {
    /// An empty drawing of `width` × `height` pixels on a white background.
    pub(crate) fn new(width: f64, height: f64) -> Self {
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif"><rect width="100%" height="100%" fill="#fff"/>"##
        );
        Self { out }
    }

    /// The finished element.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }

    fn points(&mut self, points: &[(f64, f64)]) {
        for (i, (x, y)) in points.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(self.out, "{sep}{x:.1},{y:.1}");
        }
    }
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Escapes text for HTML and SVG content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Canvas for SvgCanvas {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        let _ = write!(
            self.out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"#,
            hex(fill)
        );
    }

    fn line(&mut self, points: &[(f64, f64)], stroke: Rgb, width: f64) {
        self.out.push_str(r#"<polyline fill="none" points=""#);
        self.points(points);
        let _ = write!(
            self.out,
            r#"" stroke="{}" stroke-width="{width:.1}" stroke-linejoin="round"/>"#,
            hex(stroke)
        );
    }

    fn polygon(&mut self, points: &[(f64, f64)], fill: Rgb) {
        self.out.push_str(r#"<polygon points=""#);
        self.points(points);
        let _ = write!(self.out, r#"" fill="{}"/>"#, hex(fill));
    }

    fn text(&mut self, x: f64, y: f64, text: &str, font: Font) {
        let anchor = match font.align {
            Align::Start => "start",
            Align::Middle => "middle",
            Align::End => "end",
        };
        let _ = write!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{:.1}" fill="{}" text-anchor="{anchor}" dominant-baseline="central">{}</text>"#,
            font.size,
            hex(font.color),
            escape(text)
        );
    }
}
