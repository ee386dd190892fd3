// The widgets drawn with Recharts, loaded as one chunk apart from the grid: the
// grid, its KPI cards (plain SVG sparklines) and tables render while this loads.
export { ComparisonBarChart } from '../../../components/ComparisonBarChart/ComparisonBarChart';
export { StackedBarChart } from '../../../components/StackedBarChart/StackedBarChart';
export { TimeseriesChart } from '../../../components/TimeseriesChart/TimeseriesChart';
export { PieDonut } from './PieDonut';
