import type { ReauthDueRepository } from '@vault/persistence';
import { PROVIDER_NAMES } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import type { MetricsService } from '../metrics/metrics.service';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';

/**
 * Hears about re-consent before the refresh token dies: flags, once, each connection whose refresh token's
 * known death (`refresh_token_expires_at`) falls within REAUTH_WARNING_DAYS (`reauth_due_at`, a `reauth_due`
 * event, a `connection.reauth_due` webhook), clears the flag when a refresh or re-consent moved the death
 * out of the window, and keeps the `vault_connections_reauth_due{provider}` gauge. Run by the worker.
 */
export class ReauthDueWatch {
  constructor(
    private readonly repo: ReauthDueRepository,
    private readonly webhooks: WebhookNotifier,
    private readonly metrics: MetricsService,
    private readonly config: Pick<VaultConfig, 'REAUTH_WARNING_DAYS'>,
  ) {}

  /** One round; answers how many connections it flagged. */
  async check(): Promise<number> {
    const days = this.config.REAUTH_WARNING_DAYS;
    const flagged = await this.repo.flagDue(days);
    for (const f of flagged) this.webhooks.reauthDue(f);
    await this.repo.clearNoLongerDue(days);
    const counts = await this.repo.countByProvider();
    for (const provider of PROVIDER_NAMES) {
      const n = counts.find((c) => c.provider === provider)?.count ?? 0;
      this.metrics.connectionsReauthDue.set({ provider }, n);
    }
    return flagged.length;
  }
}
