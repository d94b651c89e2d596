/** A SQL identifier, double-quoted: role names go into ALTER/CREATE ROLE, which take no parameters. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal for a value that cannot be a parameter (utility statements take none). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
