//! The scale phase's plot: build cost per node against the number of
//! nodes, one line per shape (and the raw floor), as an SVG file.

use std::path::Path;

use plotters::prelude::*;

use crate::scale::ScaleRow;

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(80, 80, 80),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// Writes the plot of `rows` to `path`.
pub(crate) fn per_node_svg(rows: &[ScaleRow], path: &Path) -> Result<(), String> {
    let mut shapes: Vec<&str> = Vec::new();
    for r in rows {
        if !shapes.contains(&r.shape) {
            shapes.push(r.shape);
        }
    }
    let per_node = |r: &ScaleRow| r.per_node().as_secs_f64() * 1e3;
    let max_n = rows.iter().map(|r| r.nodes).max().unwrap_or(10) as f64;
    let max_y = rows.iter().map(per_node).fold(1.0, f64::max) * 1.15;
    let err = |e: DrawingAreaErrorKind<_>| format!("plot {}: {e}", path.display());
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("build cost per node", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((5f64..max_n * 1.5).log_scale(), 0f64..max_y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("nodes in the lab")
        .y_desc("ms per node")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(err)?;
    for (i, shape) in shapes.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.shape == *shape)
            .map(|r| (r.nodes as f64, per_node(r)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(*shape)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
