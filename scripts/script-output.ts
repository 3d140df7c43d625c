/**
 * Reads what the service start scripts (scripts/redis/*.sh, scripts/kafka/*.sh) print on stdout:
 * one KEY=value line per fact (e.g. REDIS_URL=…, KAFKA_BROKERS=…), among other lines.
 */
export function parseScriptOutput(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values[line.slice(0, at)] = line.slice(at + 1);
  }
  return values;
}
