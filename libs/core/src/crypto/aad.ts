import type { SealedField } from '@vault/persistence';

/** Associated data that binds each sealed secret to the record and field it belongs to. */
export const aad = {
  connection: (id: string, field: 'refresh_token' | 'access_token'): string => `connection:${id}:${field}`,
  integration: (id: string): string => `integration:${id}:client_secret`,
  connectSession: (id: string): string => `connect_session:${id}:code_verifier`,
  previousClientSecret: (id: string): string => `integration:${id}:previous_client_secret`,
};

/** The associated data of a value of `field` in row `id` (every sealed column has one). */
export function aadOf(field: SealedField, id: string): string {
  switch (field) {
    case 'connection.refresh_token':
      return aad.connection(id, 'refresh_token');
    case 'connection.access_token':
      return aad.connection(id, 'access_token');
    case 'integration.client_secret':
      return aad.integration(id);
    case 'integration.previous_client_secret':
      return aad.previousClientSecret(id);
    case 'connect_session.code_verifier':
      return aad.connectSession(id);
  }
}
