//! Sparklines as PNG, drawn server-side so mail clients need no remote images.

use anyhow::Context;
use plotters::prelude::*;

use super::SeriesPoint;

pub(super) const PRIMARY: RGBColor = RGBColor(0x1D, 0x9E, 0x75);
/// The digest draws a bad move's sparkline in the same red as its change.
pub(super) const BAD: RGBColor = RGBColor(0xDC, 0x26, 0x26);
const NEUTRAL: RGBColor = RGBColor(0x6B, 0x72, 0x80);
/// Larger images are a caller's mistake, not a chart; refuse before allocating.
const MAX_SIDE: u32 = 4096;

/// Draws `series` as a sparkline: the area under the line in light primary, the line
/// in primary, the last point as a dot and `threshold_line` dashed in neutral. A
/// `None` value breaks the line. Without any value the image is blank (transparent)
/// but still a valid `width`×`height` PNG, so a template never has a hole.
///
/// The background is transparent so the chart sits on a light or a dark card alike.
pub fn sparkline_png(
    series: &[SeriesPoint],
    threshold_line: Option<f64>,
    width: u32,
    height: u32,
) -> anyhow::Result<Vec<u8>> {
    sparkline_png_in(series, threshold_line, width, height, PRIMARY)
}

/// [`sparkline_png`] with the line, area and dot in `color`.
pub(super) fn sparkline_png_in(
    series: &[SeriesPoint],
    threshold_line: Option<f64>,
    width: u32,
    height: u32,
    color: RGBColor,
) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        (1..=MAX_SIDE).contains(&width) && (1..=MAX_SIDE).contains(&height),
        "a sparkline of {width}×{height} px is out of range"
    );
    // The bitmap backend has no alpha channel. Drawing the same chart on white and on
    // black recovers it exactly: per channel, white - black = (1 - alpha) * 255.
    let on_white = draw(series, threshold_line, width, height, color, WHITE)?;
    let on_black = draw(series, threshold_line, width, height, color, BLACK)?;
    let rgba = unblend(&on_white, &on_black);
    encode(&rgba, width, height)
}

fn draw(
    series: &[SeriesPoint],
    threshold_line: Option<f64>,
    width: u32,
    height: u32,
    color: RGBColor,
    background: RGBColor,
) -> anyhow::Result<Vec<u8>> {
    let mut buffer = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&background).context("filling the chart")?;
        plot(&root, series, threshold_line, height, color).context("drawing the chart")?;
        root.present().context("finishing the chart")?;
    }
    Ok(buffer)
}

fn plot(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    series: &[SeriesPoint],
    threshold_line: Option<f64>,
    height: u32,
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>> {
    let points: Vec<Option<(f64, f64)>> = series
        .iter()
        .enumerate()
        .map(|(i, point)| point.value.filter(|v| v.is_finite()).map(|v| (i as f64, v)))
        .collect();
    let threshold = threshold_line.filter(|v| v.is_finite());
    let Some(&(last_x, last_y)) = points.iter().rev().flatten().next() else {
        return Ok(());
    };

    let values = points.iter().flatten().map(|&(_, v)| v).chain(threshold);
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // A flat series gets a band around its value so the line sits mid-height.
    let pad = if high > low {
        (high - low) * 0.12
    } else {
        (low.abs() * 0.1).max(1.0)
    };
    let y_range = (low - pad)..(high + pad);
    // One point is drawn at the right edge, where "now" is on a longer series.
    let x_range = if series.len() > 1 {
        0.0..(series.len() - 1) as f64
    } else {
        -1.0..0.0
    };

    // Sizes follow the height so a 2× image looks like the 1× one, only sharper.
    let stroke = ((height as f64 / 32.0).round() as u32).clamp(1, 4);
    let radius = (stroke * 2).max(2);
    let mut chart = ChartBuilder::on(root)
        .margin(radius + 1)
        .build_cartesian_2d(x_range.clone(), y_range.clone())?;

    let segments = points.split(Option::is_none).filter(|s| s.len() > 1);
    for segment in segments.clone() {
        chart.draw_series(AreaSeries::new(
            segment.iter().flatten().copied(),
            y_range.start,
            color.mix(0.18).filled(),
        ))?;
    }
    if let Some(threshold) = threshold {
        let dash = stroke * 4;
        chart.draw_series(DashedLineSeries::new(
            [(x_range.start, threshold), (x_range.end, threshold)],
            dash,
            dash,
            NEUTRAL.stroke_width(stroke.max(2) - 1),
        ))?;
    }
    for segment in segments {
        chart.draw_series(LineSeries::new(
            segment.iter().flatten().copied(),
            color.stroke_width(stroke),
        ))?;
    }
    chart.draw_series(std::iter::once(Circle::new(
        (last_x, last_y),
        radius,
        color.filled(),
    )))?;
    Ok(())
}

/// Recovers straight (non-premultiplied) RGBA from the same picture drawn on white
/// and on black.
fn unblend(on_white: &[u8], on_black: &[u8]) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(on_white.len() / 3 * 4);
    for (w, b) in on_white.chunks_exact(3).zip(on_black.chunks_exact(3)) {
        let spread: u32 = (0..3).map(|c| u32::from(w[c].saturating_sub(b[c]))).sum();
        let alpha = 255 - (spread / 3).min(255);
        if alpha == 0 {
            rgba.extend_from_slice(&[0, 0, 0, 0]);
            continue;
        }
        for &channel in b {
            rgba.push(((u32::from(channel) * 255 + alpha / 2) / alpha).min(255) as u8);
        }
        rgba.push(alpha as u8);
    }
    rgba
}

fn encode(rgba: &[u8], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().context("writing the PNG header")?;
    writer
        .write_image_data(rgba)
        .context("writing the PNG data")?;
    writer.finish().context("finishing the PNG")?;
    Ok(out)
}
