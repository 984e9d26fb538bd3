/** Associated data that binds each sealed secret to the record and field it belongs to. */
export const aad = {
  connection: (id: string, field: 'refresh_token' | 'access_token'): string => `connection:${id}:${field}`,
  integration: (id: string): string => `integration:${id}:client_secret`,
  connectSession: (id: string): string => `connect_session:${id}:code_verifier`,
};
