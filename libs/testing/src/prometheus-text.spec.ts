import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheusText } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it("reads prom-client's output: types, labels with escapes, histogram series", async () => {
    const registry = new Registry();
    new Counter({ name: 'c_total', help: 'h', labelNames: ['l'], registers: [registry] }).labels('a "quoted"\\ \n value').inc(2);
    new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['r'], buckets: [0.1, 1], registers: [registry] }).labels('/x/:id').observe(0.5);
    const scrape = parsePrometheusText(await registry.metrics());
    expect(scrape.types.get('c_total')).toBe('counter');
    expect(scrape.value('c_total', { l: 'a "quoted"\\ \n value' })).toBe(2);
    expect(scrape.value('h_seconds_bucket', { r: '/x/:id', le: '0.1' })).toBe(0);
    expect(scrape.value('h_seconds_bucket', { r: '/x/:id', le: '+Inf' })).toBe(1);
    expect(scrape.value('h_seconds_count', { r: '/x/:id' })).toBe(1);
    expect(scrape.value('c_total', { l: 'absent' })).toBe(0);
  });

  it.each([
    ['no final newline', '# TYPE a counter\na 1'],
    ['a sample without TYPE', 'a 1\n'],
    ['a bad value', '# TYPE a gauge\na one\n'],
    ['a bad label', '# TYPE a gauge\na{1x="v"} 1\n'],
    ['an unescaped quote', '# TYPE a gauge\na{l="x"y"} 1\n'],
    ['a duplicate series', '# TYPE a gauge\na{l="x"} 1\na{l="x"} 2\n'],
    ['an unknown type', '# TYPE a thing\na 1\n'],
    ['buckets that shrink', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
