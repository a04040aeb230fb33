import { parser } from '@prometheus-io/lezer-promql';

/**
 * The metric names a PromQL expression selects (each vector selector's name). Throws on a syntax
 * error and on a selector without a literal name (`{__name__=~"..."}`), whose metrics cannot be checked.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError)
        problems.push(`syntax error at ${node.from}: ${expr.slice(node.from, node.from + 20)}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id === null) problems.push(`selector without a metric name: ${expr.slice(node.from, node.to)}`);
        else names.add(expr.slice(id.from, id.to));
      }
    },
  });
  if (problems.length > 0) throw new Error(`${problems.join('; ')} in: ${expr}`);
  return [...names];
}
