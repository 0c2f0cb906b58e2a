// A reducer module: the longest name per team.
export const init = '';
export const step = (acc, r) => (r.name.length > acc.length ? r.name : acc);
export const merge = (a, b) => (b.length > a.length ? b : a);
export const final = (acc, key) => `${key.team}: ${acc}`;
