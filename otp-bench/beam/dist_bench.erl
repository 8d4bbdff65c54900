%% otp-bench: the BEAM's own distribution on the remote workloads of `compare`
%% (see BENCHMARKS.md, "Distribution").
%%
%% Two nodes on 127.0.0.1: this node, a, started by the caller with `-name` and
%% `-setcookie`, and a peer, b, that `main/1` starts with the same cookie and
%% the same number of schedulers (`peer`, which connects the two over the
%% distribution). A counter runs on b, registered as `counter`; a process on
%% a (the one running `main/1`) measures:
%%
%%   remote_cast  N messages `#{n => 1}` sent one way with `!` to {counter, b};
%%                the counter adds them up and tells a when its count reaches
%%                the target; rate = N / the time from before the first send
%%                until a got that news (one one-way trip more than "until the
%%                last arrived": tens of microseconds in a run of a second).
%%                Also the bytes a's distribution socket sent during those N
%%                sends, per message (`inet:getstat(Socket, [send_oct])`).
%%   remote_call  N sequential gen_server:call({counter, b}, #{n => I}), each
%%                timed alone, answered #{n => State + I} (State is 0);
%%                median and 99th percentile (nearest rank), in ns.
%%
%% Both first run a tenth of N untimed, as compare's workloads do. The result
%% is one JSON line on standard output, with the metric names of compare:
%%
%%   {"framework":"beam","workload":"remote_cast","n":1000000,"schedulers":1,
%%    "remote_cast_per_s":471000.0,"wire_bytes_per_msg":19.0}
%%
%% Run it as compare does (`compare --child beam remote_cast --runtime
%% current` prints the command on stderr):
%%
%%   erl -noshell -name otp_bench_a@127.0.0.1 -setcookie otp_bench +S 1 \
%%       -eval '{ok, M, B} = compile:file("otp-bench/beam/dist_bench.erl", [binary]),
%%              {module, M} = code:load_binary(M, "dist_bench.erl", B),
%%              dist_bench:main(["remote_cast", "1000000", "1"])'
-module(dist_bench).
-behaviour(gen_server).

-export([main/1]).
-export([start_cast_counter/0, start_call_counter/0]).
-export([init/1, handle_call/3, handle_cast/2]).

%% main([Workload, N, Schedulers]): measures Workload with N operations, both
%% nodes on Schedulers schedulers, prints the JSON line and halts (status 0;
%% 1 after printing the error on a failure).
main([Workload, NText, SchedulersText]) ->
    try
        N = list_to_integer(NText),
        Schedulers = list_to_integer(SchedulersText),
        true = N > 0 andalso Schedulers > 0,
        {Peer, B} = start_peer(Schedulers),
        Metrics = run(Workload, N, B),
        peer:stop(Peer),
        io:format("~s~n", [json(Workload, N, Schedulers, Metrics)]),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "dist_bench: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

%% Starts node b with this node's cookie and `Schedulers` schedulers, connected
%% to this node over the distribution, and loads this module on it.
start_peer(Schedulers) ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Name = list_to_atom(lists:flatten(io_lib:format("otp_bench_b_~s", [os:getpid()]))),
    {ok, Peer, B} = peer:start_link(#{
        name => Name,
        host => Host,
        longnames => true,
        args => ["-setcookie", atom_to_list(erlang:get_cookie()),
                 "+S", integer_to_list(Schedulers)]
    }),
    {ok, ?MODULE, Binary} = compile:file(?FILE, [binary]),
    {module, ?MODULE} = erpc:call(B, code, load_binary, [?MODULE, ?FILE, Binary]),
    {Peer, B}.

run("remote_cast", N, B) ->
    ok = erpc:call(B, ?MODULE, start_cast_counter, []),
    Counter = {counter, B},
    _ = casts(Counter, N div 10, N div 10),
    Socket = dist_socket(B),
    {ok, [{send_oct, Before}]} = inet:getstat(Socket, [send_oct]),
    Elapsed = casts(Counter, N, N div 10 + N),
    {ok, [{send_oct, After}]} = inet:getstat(Socket, [send_oct]),
    [{"remote_cast_per_s", N / (Elapsed / 1.0e9)},
     {"wire_bytes_per_msg", (After - Before) / N}];
run("remote_call", N, B) ->
    ok = erpc:call(B, ?MODULE, start_call_counter, []),
    Counter = {counter, B},
    _ = calls(Counter, N div 10, []),
    Samples = lists:sort(calls(Counter, N, [])),
    [{"remote_call_median_ns", percentile(Samples, 0.5)},
     {"remote_call_p99_ns", percentile(Samples, 0.99)}];
run(Other, _, _) ->
    error({unknown_workload, Other}).

%% Sends `Count` casts to the counter, which must then have counted `Total` in
%% all; returns the nanoseconds from before the first send until the counter
%% said it reached `Total`.
casts(Counter, Count, Total) ->
    Started = erlang:monotonic_time(nanosecond),
    Counter ! {expect, Total, self()},
    send_casts(Counter, Count),
    receive
        {reached, Total} -> erlang:monotonic_time(nanosecond) - Started
    after 600000 ->
        error({casts_lost, Total})
    end.

send_casts(_, 0) ->
    ok;
send_casts(Counter, Left) ->
    Counter ! #{n => 1},
    send_casts(Counter, Left - 1).

%% `Count` sequential calls, each timed alone; the samples in ns, newest first.
calls(_, 0, Samples) ->
    Samples;
calls(Counter, Left, Samples) ->
    Started = erlang:monotonic_time(nanosecond),
    #{n := Left} = gen_server:call(Counter, #{n => Left}),
    calls(Counter, Left - 1, [erlang:monotonic_time(nanosecond) - Started | Samples]).

%% The socket of the distribution connection to node B (inet_tcp_dist).
dist_socket(B) ->
    {B, Socket} = lists:keyfind(B, 1, erlang:system_info(dist_ctrl)),
    Socket.

%% Nearest rank, as compare's harness computes it.
percentile(Sorted, P) ->
    Len = length(Sorted),
    Rank = max(1, min(Len, ceil(P * Len))),
    lists:nth(Rank, Sorted).

json(Workload, N, Schedulers, Metrics) ->
    Fields = [io_lib:format("\"~s\":~s", [Name, number(Value)]) || {Name, Value} <- Metrics],
    io_lib:format("{\"framework\":\"beam\",\"workload\":\"~s\",\"n\":~b,\"schedulers\":~b,~s}",
                  [Workload, N, Schedulers, lists:join(",", Fields)]).

number(Value) when is_integer(Value) -> integer_to_list(Value);
number(Value) -> float_to_list(Value, [{decimals, 3}]).

%% On node b: the cast counter, a plain process registered as `counter`. It
%% adds up every `#{n := X}`; told `{expect, Total, From}`, it sends From
%% `{reached, Total}` once its count reaches Total.
start_cast_counter() ->
    Pid = spawn(fun() -> count(0, none) end),
    true = register(counter, Pid),
    ok.

count(Count, Expect) ->
    receive
        #{n := X} ->
            New = Count + X,
            case Expect of
                {New, From} ->
                    From ! {reached, New},
                    count(New, none);
                _ ->
                    count(New, Expect)
            end;
        {expect, Total, From} when Total =:= Count ->
            From ! {reached, Total},
            count(Count, none);
        {expect, Total, From} ->
            count(Count, {Total, From})
    end.

%% On node b: the call counter, a gen_server registered as `counter` whose
%% state is 0 and that answers #{n => I} with #{n => State + I}.
start_call_counter() ->
    {ok, _} = gen_server:start({local, counter}, ?MODULE, 0, []),
    ok.

init(State) ->
    {ok, State}.

handle_call(#{n := I}, _From, State) ->
    {reply, #{n => State + I}, State}.

handle_cast(_, State) ->
    {noreply, State}.
