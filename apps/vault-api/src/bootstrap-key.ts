import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeysService, VAULT_CONFIG, bootstrapKey, type VaultConfig } from '@vault/core';

/**
 * At start: creates the admin key given by BOOTSTRAP_API_KEY (or, in development, the generated one in
 * `.local/`) if it is not in the database yet, and reads the keys of earlier versions before the first request.
 */
@Injectable()
export class BootstrapKey implements OnApplicationBootstrap {
  private readonly logger = new Logger('BootstrapKey');

  constructor(
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.apiKeys.warmUp();
    const key = bootstrapKey(this.config, (m) => this.logger.warn(m));
    if (!key) return;
    if (await this.apiKeys.ensureBootstrapKey(key)) {
      this.logger.log('created the bootstrap admin API key');
    }
  }
}
