import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KeyRotationService, RequireScope } from '@vault/core';
import { presentDataKey, presentKeyRotationJob } from '../dto/key-rotation.dto';
import { Audited } from '../http/audit.interceptor';
import { UuidPipe } from '../http/uuid.pipe';

/**
 * Online key rotation: a platform `admin` key only. Retiring a data key and re-wrapping the data keys after a
 * KMS key rotation run as background jobs (202 with the job); their progress is read from the data.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin')
export class KeyRotationController {
  constructor(@Inject(KeyRotationService) private readonly rotation: KeyRotationService) {}

  /** Every data key, with how many sealed values are under it. Never a key. */
  @Get('data-keys')
  @RequireScope('admin')
  async listDataKeys() {
    return { data: (await this.rotation.listDataKeys()).map(presentDataKey) };
  }

  /** Nothing new is sealed under the key from now; a job re-seals what is under it, then deletes it. */
  @Post('data-keys/:id/retire')
  @HttpCode(202)
  @Audited('data_key.retired', (p) => ({ target: p.id }))
  @RequireScope('admin')
  async retire(@Param('id', UuidPipe) id: string) {
    return presentKeyRotationJob(await this.rotation.retireDataKey(id));
  }

  /** After the KMS key was rotated: a job re-wraps every data key under the current KMS key. */
  @Post('data-keys/rewrap')
  @HttpCode(202)
  @Audited('data_keys.rewrap_started', (_, r) => ({ target: r?.id }))
  @RequireScope('admin')
  async rewrap() {
    return presentKeyRotationJob(await this.rotation.rewrapDataKeys());
  }

  @Get('key-jobs/:id')
  @RequireScope('admin')
  async job(@Param('id', UuidPipe) id: string) {
    return presentKeyRotationJob(await this.rotation.get(id));
  }
}
