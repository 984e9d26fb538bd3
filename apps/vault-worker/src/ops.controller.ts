import { Controller } from '@nestjs/common';
import { OpsEndpoints } from '@vault/core';

/** The worker's only HTTP: `/health/live`, `/health/ready` and `/metrics`. */
@Controller()
export class WorkerOpsController extends OpsEndpoints {}
