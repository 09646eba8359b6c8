# bash completion for taskflow
# Install:  taskflow completion bash > ~/.local/share/bash-completion/completions/taskflow
#      or:  eval "$(taskflow completion bash)"   in ~/.bashrc

_taskflow_tasks() {
    # Task names from the running daemon; nothing when it is not reachable.
    command taskflow ${_taskflow_socket:+--socket "$_taskflow_socket"} ls --json 2>/dev/null \
        | command sed -n 's/^ *"name": "\(.*\)",*$/\1/p'
}

_taskflow_runs() {
    command taskflow ${_taskflow_socket:+--socket "$_taskflow_socket"} runs --json --limit 30 2>/dev/null \
        | command sed -n 's/^    "id": "\(.*\)",*$/\1/p'
}

_taskflow() {
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    }
    local commands="tui demo status health ls run exec runs show logs wait cancel rerun enable disable breakers events validate audit reload completion service web hosts bridge"
    local global="--socket --host --json --help --version"
    local _taskflow_socket="" command="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --socket) _taskflow_socket="${words[i+1]}"; ((i++)) ;;
            -*) ;;
            *) command="${words[i]}"; break ;;
        esac
    done

    if [[ "$prev" == "--socket" ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); return
    fi
    if [[ -z "$command" ]]; then
        COMPREPLY=($(compgen -W "$commands $global" -- "$cur")); return
    fi

    local opts="--socket --json --help"
    case "$command" in
        ls) opts+=" --enabled --disabled --tag" ;;
        run) opts+=" -p --param --from-file --wait" ;;
        exec) opts+=" --name --timeout --retries --cwd --from-file --wait --" ;;
        runs) opts+=" --state --task --limit" ;;
        logs) opts+=" -f --follow --attempt --stream" ;;
        wait) opts+=" --timeout" ;;
        rerun) opts+=" --failed-only --wait" ;;
        disable) opts+=" --reason" ;;
        events) opts+=" --topic --run" ;;
        audit) opts+=" --limit" ;;
        tui) opts+=" --theme --read-only" ;;
        demo) opts+=" --theme --read-only --tasks --no-tui" ;;
        web) opts+=" --bind --public --allow-actions --metrics-port --theme" ;;
        validate) opts+=" --import" ;;
        service) opts+=" --user --dry-run --root --hardening --yes --taskflowd -f --follow -n --lines --since --keep-state --stop-tasks --timeout" ;;
    esac

    case "$prev" in
        --state) COMPREPLY=($(compgen -W "pending queued running retrying blocked succeeded failed cancelled skipped interrupted" -- "$cur")); return ;;
        --stream) COMPREPLY=($(compgen -W "stdout stderr" -- "$cur")); return ;;
        --topic) COMPREPLY=($(compgen -W "runs attempts tasks breakers logs stats" -- "$cur")); return ;;
        --task) COMPREPLY=($(compgen -W "$(_taskflow_tasks)" -- "$cur")); return ;;
        --tasks|--root|--taskflowd) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return
    fi
    case "$command" in
        run|enable|disable) COMPREPLY=($(compgen -W "$(_taskflow_tasks)" -- "$cur")) ;;
        show|logs|wait|cancel|rerun) COMPREPLY=($(compgen -W "$(_taskflow_runs)" -- "$cur")) ;;
        breakers) [[ "${words[cword-1]}" == breakers ]] && COMPREPLY=($(compgen -W "reset trip" -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
        service) [[ "${words[cword-1]}" == service ]] && COMPREPLY=($(compgen -W "install status logs uninstall" -- "$cur")) ;;
        validate) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _taskflow taskflow
