import type { DataKeyView, KeyRotationView } from '@vault/core';

export function presentDataKey(k: DataKeyView) {
  return {
    id: k.id,
    kms_key_id: k.kmsKeyId,
    created_at: k.createdAt.toISOString(),
    retired_at: k.retiredAt ? k.retiredAt.toISOString() : null,
    sealed_values: k.sealedValues,
  };
}

export function presentKeyRotationJob(j: KeyRotationView) {
  return {
    id: j.id,
    kind: j.kind,
    state: j.state,
    data_key_id: j.dataKeyId,
    kms_key_id: j.kmsKeyId,
    done: j.done,
    remaining: j.remaining,
    created_at: j.createdAt.toISOString(),
    finished_at: j.finishedAt ? j.finishedAt.toISOString() : null,
    error: j.error,
  };
}
