// Root layout: theme (before paint, to avoid a flash), providers, toasts.
import type { Metadata } from "next";
import "./globals.css";
import { Toaster } from "@/components/ui/toast";
import { Providers } from "@/components/trpc";

export const metadata: Metadata = { title: { default: "Anvil", template: "%s · Anvil" }, description: "DPU bare-metal cloud console" };
export const dynamic = "force-dynamic";

const themeScript = `(function(){try{var t=localStorage.getItem('anvil-theme');var d=t?t==='dark':matchMedia('(prefers-color-scheme: dark)').matches;document.documentElement.classList.toggle('dark',d)}catch(e){}})()`;

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant script that sets the theme before first paint */}
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body>
        <Providers>
          <Toaster>{children}</Toaster>
        </Providers>
      </body>
    </html>
  );
}
