import { type RawBuilder, sql } from 'kysely';
import type { Criterion, SearchRequest, SearchValue, SortSpec } from '../fhir/search-request';

/** Translates parsed search criteria into SQL over `resources r` and `search_index`. */
type Condition = RawBuilder<unknown>;

const TRUE = sql`1 = 1`;
const FALSE = sql`1 = 0`;

function or(conditions: Condition[]): Condition {
  if (conditions.length === 0) return FALSE;
  return conditions.length === 1 ? conditions[0] : sql`(${sql.join(conditions, sql` or `)})`;
}
export function and(conditions: Condition[]): Condition {
  if (conditions.length === 0) return TRUE;
  return sql`(${sql.join(conditions, sql` and `)})`;
}

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
const like = (column: Condition, pattern: string) => sql`${column} like ${pattern} escape '\\'`;

/** Range comparison of a stored [low, high] against a search [low, high], by prefix (FHIR R4 3.1.1.4.2). */
function rangeCondition(low: Condition, high: Condition, value: Extract<SearchValue, { kind: 'range' }>): Condition {
  switch (value.prefix) {
    case 'eq':
      return sql`(${low} >= ${value.low} and ${high} <= ${value.high})`;
    case 'ne':
      return sql`(${low} < ${value.low} or ${high} > ${value.high})`;
    case 'gt':
      return sql`${high} > ${value.high}`;
    case 'lt':
      return sql`${low} < ${value.low}`;
    case 'ge':
      return sql`${high} >= ${value.low}`;
    case 'le':
      return sql`${low} <= ${value.high}`;
    case 'sa':
      return sql`${low} > ${value.high}`;
    case 'eb':
      return sql`${high} < ${value.low}`;
    case 'ap': {
      const margin = Math.max((value.high - value.low) * 0.1, Math.abs(value.low) * 0.1);
      return sql`(${high} >= ${value.low - margin} and ${low} <= ${value.high + margin})`;
    }
  }
}

function indexValueCondition(criterion: Criterion, value: SearchValue): Condition {
  const text = sql.ref('si.text');
  const code = sql.ref('si.code');
  const system = sql.ref('si.system');
  switch (value.kind) {
    case 'string':
      if (criterion.type === 'uri')
        return criterion.modifier === 'below' ? like(text, `${likeEscape(value.raw)}%`) : sql`${text} = ${value.raw}`;
      if (criterion.modifier === 'exact') return sql`${code} = ${value.raw}`;
      if (criterion.modifier === 'contains') return like(text, `%${likeEscape(value.text)}%`);
      return like(text, `${likeEscape(value.text)}%`);
    case 'token': {
      if (value.text !== undefined) return like(text, `%${likeEscape(value.text)}%`);
      const parts: Condition[] = [];
      if (value.code !== undefined) parts.push(sql`${code} = ${value.code}`);
      if (value.system === null) parts.push(sql`${system} is null`);
      else if (value.system !== undefined) parts.push(sql`${system} = ${value.system}`);
      return and(parts);
    }
    case 'reference': {
      if (criterion.modifier === 'identifier') {
        return and([sql`${code} = ${value.code}`, ...(value.system ? [sql`${system} = ${value.system}`] : [])]);
      }
      if (value.reference !== undefined) {
        // an absolute URL to one of our own resources matches its relative form too
        const relative = /([A-Za-z]+\/[^/]+)$/.exec(value.reference)?.[1];
        return relative && relative !== value.reference
          ? or([sql`${text} = ${value.reference}`, sql`${text} = ${relative}`])
          : sql`${text} = ${value.reference}`;
      }
      const candidates = value.types.map((t) => `${t}/${value.id}`);
      return candidates.length
        ? sql`${text} in (${sql.join(candidates)})`
        : like(text, `%/${likeEscape(value.id ?? '')}`);
    }
    case 'range': {
      const range = rangeCondition(sql.ref('si.low'), sql.ref('si.high'), value);
      if (criterion.type === 'quantity' && value.code) {
        return and([range, sql`${code} = ${value.code}`, ...(value.system ? [sql`${system} = ${value.system}`] : [])]);
      }
      return range;
    }
    case 'missing':
      return TRUE;
  }
}

/** The ids of `resourceType` resources with an index row for `param` that meets `condition`. */
function idsWhere(sandbox: string, resourceType: string, param: string, condition: Condition): Condition {
  return sql`(select si.resource_id from search_index si where si.sandbox = ${sandbox} and si.resource_type = ${resourceType} and si.param = ${param} and ${condition})`;
}

/** A criterion as a condition on the resource row named `alias`. */
function criterionCondition(sandbox: string, resourceType: string, criterion: Criterion, alias: string): Condition {
  const id = sql.ref(`${alias}.id`);
  if (criterion.type === 'id') {
    return sql`${id} in (${sql.join(criterion.values.map((v) => (v.kind === 'token' ? (v.code ?? '') : '')))})`;
  }
  if (criterion.type === 'lastUpdated') {
    const column = sql.ref(`${alias}.last_updated`);
    return or(
      criterion.values.map((v) => {
        if (v.kind !== 'range') return FALSE;
        const low = new Date(Math.max(v.low, -8.64e15)).toISOString();
        const high = new Date(Math.min(v.high, 8.64e15)).toISOString();
        // ISO instants in UTC compare correctly as text
        const prefix = v.prefix === 'ap' ? 'eq' : v.prefix;
        return rangeCondition(column, column, {
          ...v,
          prefix,
          low: low as unknown as number,
          high: high as unknown as number,
        });
      }),
    );
  }
  if (criterion.chain) {
    const { targetTypes, criterion: inner } = criterion.chain;
    const targets = targetTypes.map(
      (target) =>
        sql`si.text in (select cast(${`${target}/`} as varchar(100)) || r2.id from resources r2 where r2.sandbox = ${sandbox} and r2.resource_type = ${target} and r2.deleted = 0 and ${criterionCondition(sandbox, target, inner, 'r2')})`,
    );
    return sql`${id} in ${idsWhere(sandbox, resourceType, criterion.param, or(targets))}`;
  }
  const missing = criterion.values.find((v) => v.kind === 'missing');
  if (missing && missing.kind === 'missing') {
    const withValue = idsWhere(sandbox, resourceType, criterion.param, TRUE);
    return missing.missing ? sql`${id} not in ${withValue}` : sql`${id} in ${withValue}`;
  }
  const condition = or(criterion.values.map((v) => indexValueCondition(criterion, v)));
  const perRow = sql`(select 1 from search_index si where si.sandbox = ${sandbox} and si.resource_type = ${resourceType} and si.resource_id = ${id} and si.param = ${criterion.param} and ${condition})`;
  // A range has no selective index (high is not indexed), and a :not excludes a set that may be large
  // (every result of one lab): test them per candidate row, so that another criterion (the patient)
  // chooses the rows; as an IN list they would read every value of the parameter.
  if (criterion.modifier === 'not') return sql`not exists ${perRow}`;
  if (criterion.values.every((v) => v.kind === 'range')) return sql`exists ${perRow}`;
  return sql`${id} in ${idsWhere(sandbox, resourceType, criterion.param, condition)}`;
}

export function whereClause(sandbox: string, request: SearchRequest): Condition {
  return and(request.criteria.map((c) => criterionCondition(sandbox, request.resourceType, c, 'r')));
}

function sortExpression(resourceType: string, sort: SortSpec): Condition {
  if (sort.type === 'id') return sql.ref('r.id');
  if (sort.type === 'lastUpdated') return sql.ref('r.last_updated');
  const column =
    sort.type === 'date' || sort.type === 'number' || sort.type === 'quantity'
      ? sort.descending
        ? 'high'
        : 'low'
      : sort.type === 'token'
        ? 'code'
        : 'text';
  const aggregate = sort.descending ? sql`max(${sql.ref(`si.${column}`)})` : sql`min(${sql.ref(`si.${column}`)})`;
  return sql`(select ${aggregate} from search_index si where si.sandbox = r.sandbox and si.resource_type = ${resourceType} and si.resource_id = r.id and si.param = ${sort.param})`;
}

export function orderByClause(request: SearchRequest): Condition {
  const parts = request.sort.map(
    (s) => sql`${sortExpression(request.resourceType, s)} ${sql.raw(s.descending ? 'desc' : 'asc')}`,
  );
  if (request.sort.length === 0) parts.push(sql`r.last_updated asc`);
  parts.push(sql`r.id asc`);
  return sql.join(parts, sql`, `);
}
