import { describe, expect, it } from 'vitest';
import { basicAuthSites, probeUrlFor } from '../../src/core/nginx-config.js';

const DUMP = `# configuration file /etc/nginx/nginx.conf:
http {
  include /etc/nginx/sites-enabled/*;
}
# configuration file /etc/nginx/sites-enabled/dashboard:
server {
  listen 443 ssl; # the public side
  server_name dashboard.example.com;
  location /admin/ {
    auth_basic "MT5";
    auth_basic_user_file "/etc/nginx/.htpasswd";
  }
}
server {
  server_name _;
  listen 127.0.0.1:8080;
  auth_basic_user_file conf.d/local.htpasswd;
}
`;

describe('nginx configuration for init', () => {
  it('finds each Basic Auth file with its server, wherever listen comes in the block', () => {
    const sites = basicAuthSites(DUMP);
    expect(sites).toEqual([
      {
        userFile: '/etc/nginx/.htpasswd',
        location: '/admin/',
        listen: ['443 ssl'],
        serverNames: ['dashboard.example.com'],
      },
      { userFile: 'conf.d/local.htpasswd', location: '/', listen: ['127.0.0.1:8080'], serverNames: ['_'] },
    ]);
  });

  it('builds a probe URL from listen and server_name, and prefers DASHBOARD_PUBLIC_URL', () => {
    const [publicSite, localSite] = basicAuthSites(DUMP);
    expect(probeUrlFor(publicSite!)).toBe('https://dashboard.example.com/admin/');
    expect(probeUrlFor(localSite!)).toBe('http://127.0.0.1:8080/');
    expect(probeUrlFor(localSite!, 'https://dash.example.org/')).toBe('https://dash.example.org/');
    expect(probeUrlFor({ ...localSite!, listen: ['unix:/run/x.sock'] })).toBeUndefined();
    expect(probeUrlFor({ ...localSite!, listen: ['80'], serverNames: [] })).toBe('http://127.0.0.1/');
  });
});
