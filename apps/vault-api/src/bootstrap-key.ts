import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysService, VAULT_CONFIG, type VaultConfig } from '@vault/core';

/** Creates the admin key given by BOOTSTRAP_API_KEY at start, if it is not in the database yet. */
@Injectable()
export class BootstrapKey implements OnApplicationBootstrap {
  private readonly logger = new Logger('BootstrapKey');

  constructor(
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.BOOTSTRAP_API_KEY) return;
    if (await this.apiKeys.ensureBootstrapKey(this.config.BOOTSTRAP_API_KEY)) {
      this.logger.log('created the admin API key given by BOOTSTRAP_API_KEY');
    }
  }
}
