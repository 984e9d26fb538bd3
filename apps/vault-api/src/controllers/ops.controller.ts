import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { OpsEndpoints, Public } from '@vault/core';

/** `/health/live`, `/health/ready` and `/metrics`: public, outside the OpenAPI document. */
@ApiExcludeController()
@Public()
@Controller()
export class OpsController extends OpsEndpoints {}
