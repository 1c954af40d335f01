// better-auth's HTTP endpoints (sign-in, sign-out, session).
import { toNextJsHandler } from "better-auth/next-js";
import { getAuth } from "@/server/auth/auth";

export const { GET, POST } = toNextJsHandler((req: Request) => getAuth().handler(req));
