package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// One constructor per panel kind, with the defaults every ztmm panel shares (data source, size, unit,
// decimals); callers add what is specific: thresholds, mappings, overrides.

func newStat(title, desc string, f format, w, h uint32, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Title(title).Description(desc).Datasource(datasource()).
		Span(w).Height(h).
		Targets(targets(qs...)).
		Unit(f.unit).Decimals(f.decimals).
		ReduceOptions(reduceLast()).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeValue)
	if f.min != nil {
		p.Min(*f.min).Max(*f.max)
	}
	return p
}

func newGauge(title, desc string, f format, w, h uint32, qs ...*prometheus.DataqueryBuilder) *gauge.PanelBuilder {
	p := gauge.NewPanelBuilder().
		Title(title).Description(desc).Datasource(datasource()).
		Span(w).Height(h).
		Targets(targets(qs...)).
		Unit(f.unit).Decimals(f.decimals).
		ReduceOptions(reduceLast()).
		ShowThresholdMarkers(true)
	if f.min != nil {
		p.Min(*f.min).Max(*f.max)
	}
	return p
}

func newBarGauge(title, desc string, f format, w, h uint32, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().
		Title(title).Description(desc).Datasource(datasource()).
		Span(w).Height(h).
		Targets(targets(qs...)).
		Unit(f.unit).Decimals(f.decimals).
		ReduceOptions(reduceLast()).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ShowUnfilled(true)
	if f.min != nil {
		p.Min(*f.min).Max(*f.max)
	}
	return p
}

func newTimeseries(title, desc string, f format, w, h uint32, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).Description(desc).Datasource(datasource()).
		Span(w).Height(h).
		Targets(targets(qs...)).
		Unit(f.unit).Decimals(f.decimals).
		LineWidth(1).FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if f.min != nil {
		p.Min(*f.min).Max(*f.max)
	}
	return p
}

func newTable(title, desc string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).Description(desc).Datasource(datasource()).
		Span(w).Height(h).
		Targets(targets(qs...)).
		CellHeight(common.TableCellHeightSm)
}

// colouredCells colours a table column's background by its thresholds or value mappings.
func colouredCells() dashboard.DynamicConfigValue {
	return prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"})
}

// row is a full-width section title.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }
