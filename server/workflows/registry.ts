// Every durable workflow module, imported once by startEngine before DBOS launches (registration order
// does not matter; names do — they are stored with each run).
import "./nodes";
import "./sync";
import "./maintenance";
import "./instances";
import "./instance-recovery";
import "./instance-actions";
import "./webhooks";
