export { parseThresholdExpression, aggregationLabel, type ThresholdExpression, type ThresholdAggregation, type ThresholdOp } from './expression.js'
export { parseThresholdKey, type ThresholdKey } from './key.js'
export {
  compileThresholds, parseThresholdFlag, mergeThresholdFlags, assertThresholdDefinitions, THRESHOLD_AGGREGATIONS,
  type Threshold, type ThresholdDefinitions, type ThresholdObject, type ThresholdFlag
} from './compile.js'
export { evaluateThresholds, evaluateThreshold, thresholdInputFrom, type ThresholdInput } from './evaluate.js'
export { ThresholdWatch } from './watch.js'
export { formatThresholdLines } from './format.js'
