/* The subcommands of `tm`. Each returns the process exit status. */
#ifndef TM_COMMANDS_H
#define TM_COMMANDS_H

int tm_cmd_decode(int argc, char **argv);
int tm_cmd_plugins(int argc, char **argv);
int tm_cmd_flows(int argc, char **argv);
int tm_cmd_plan(int argc, char **argv);
int tm_cmd_capture(int argc, char **argv);
int tm_cmd_store(int argc, char **argv);
int tm_cmd_query(int argc, char **argv);
int tm_cmd_serve(int argc, char **argv);
int tm_cmd_stats(int argc, char **argv);
int tm_cmd_ctl(int argc, char **argv);
int tm_cmd_frontend(int argc, char **argv);
/* tm query --cluster / --node (core/cmd_cluster.c) */
int tm_query_cluster_wanted(int argc, char **argv);
int tm_cmd_query_cluster(int argc, char **argv);

#endif
