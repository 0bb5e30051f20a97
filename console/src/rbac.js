// The role → permission matrix of chalicelib/auth/rbac.py, injected at build time (console/build.py), so a
// control the caller's role may not use is disabled with the reason instead of failing with a 403.
/* global RBAC_MATRIX */
const MATRIX = RBAC_MATRIX;
const RANK = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export const roles = Object.keys(RANK);

// null when `role` holds `permission`, else why not (shown beside the disabled control).
export function denied(role, permission) {
  if (!role) return 'Your role in this team is unknown';
  return (MATRIX[role] || []).includes(permission) ? null : `Your role (${role}) lacks ${permission}`;
}

// A role may grant or change only roles at or below its own rank (the API refuses the rest).
export function outranks(role, target) {
  return RANK[role] >= RANK[target];
}
