import type { Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { EnvelopeCipher } from '@vault/crypto';
import {
  ConnectionsRepository,
  ConnectSessionsRepository,
  Database,
  EventsRepository,
} from '@vault/persistence';
import { ProviderRegistry } from '@vault/providers';
import type { VaultConfig } from '../config/vault-config';
import { ConnectSessionsService } from '../connect/connect-sessions.service';
import { IntegrationsService } from '../integrations/integrations.service';
import { WEBHOOK_QUEUE, watchQueue } from '../jobs/queues';
import { WebhookNotifier } from '../webhooks/webhook-notifier';
import { ConnectionsService } from './connections.service';

/** Connections wired for Nest: the connection service, webhooks about them, and connect sessions. */
export function connectionProviders(config: VaultConfig): Provider[] {
  return [
    {
      provide: ConnectionsService,
      useFactory: (
        db: Database,
        connections: ConnectionsRepository,
        events: EventsRepository,
        integrations: IntegrationsService,
        cipher: EnvelopeCipher,
        providers: ProviderRegistry,
      ) =>
        new ConnectionsService(
          db,
          connections,
          events,
          integrations,
          cipher,
          providers,
          config.REFRESH_MARGIN_SECONDS,
        ),
      inject: [
        Database,
        ConnectionsRepository,
        EventsRepository,
        IntegrationsService,
        EnvelopeCipher,
        ProviderRegistry,
      ],
    },
    {
      provide: WebhookNotifier,
      useFactory: (queue: Queue) => {
        watchQueue(queue);
        return new WebhookNotifier(config.WEBHOOK_URL ? queue : null);
      },
      inject: [getQueueToken(WEBHOOK_QUEUE)],
    },
    {
      provide: ConnectSessionsService,
      useFactory: (
        sessions: ConnectSessionsRepository,
        connectionsRepo: ConnectionsRepository,
        connections: ConnectionsService,
        integrations: IntegrationsService,
        cipher: EnvelopeCipher,
        providers: ProviderRegistry,
        webhooks: WebhookNotifier,
      ) =>
        new ConnectSessionsService(
          sessions,
          connectionsRepo,
          connections,
          integrations,
          cipher,
          providers,
          webhooks,
          config,
        ),
      inject: [
        ConnectSessionsRepository,
        ConnectionsRepository,
        ConnectionsService,
        IntegrationsService,
        EnvelopeCipher,
        ProviderRegistry,
        WebhookNotifier,
      ],
    },
  ];
}
