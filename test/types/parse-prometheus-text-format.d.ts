/** The package ships no types: what test/e2e/stat-prometheus.test.ts uses of it. */
declare module 'parse-prometheus-text-format' {
  interface Sample {
    value?: string;
    labels?: Record<string, string>;
  }
  interface Family {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
    metrics: Sample[];
  }
  /** Parses the text exposition format; throws on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): Family[];
}
