/**
 * Who is asking: a caller limited to one tenant sees only that tenant's rows; `null` means every tenant
 * (an API key with no tenant). Repositories take it first, so no query can forget it.
 */
export interface TenantScope {
  readonly tenantId: string | null;
}

export const ALL_TENANTS: TenantScope = Object.freeze({ tenantId: null });
